"""JSON-lines logging with the service, entrypoint and correlation id of the
current worker on every record.

The context lives in contextvars: greenlet gives every eventlet greenthread its
own context, so concurrent workers never see each other's ids.
"""
import contextvars
import json
import logging
import time
import traceback

service_var = contextvars.ContextVar("mes_service", default=None)
entrypoint_var = contextvars.ContextVar("mes_entrypoint", default=None)
correlation_var = contextvars.ContextVar("mes_correlation_id", default=None)


def bind(service=None, entrypoint=None, correlation_id=None):
    """Set the logging context of the current greenthread."""
    if service is not None:
        service_var.set(service)
    if entrypoint is not None:
        entrypoint_var.set(entrypoint)
    if correlation_id is not None:
        correlation_var.set(correlation_id)


class ContextFilter(logging.Filter):
    def filter(self, record):
        if record.name == "nameko.containers" and record.exc_info:
            _quiet_expected_error(record)
        # values given with `extra=` win over the greenthread's context
        for attr, var in (("service", service_var), ("entrypoint", entrypoint_var),
                          ("correlation_id", correlation_var)):
            if getattr(record, attr, None) is None:
                setattr(record, attr, var.get())
        return True


def _quiet_expected_error(record):
    """A typed 4xx answer (NotFound, ValidationFailed, ...) is an answer, not a
    failure: nameko logs it as a WARNING with a traceback; make it one INFO line
    with the error code. Real failures keep their level and traceback."""
    exc = record.exc_info[1]
    status = getattr(exc, "http_status", 500)
    if status >= 500 or not record.args:
        return
    worker_ctx = record.args[0]
    entrypoint = getattr(getattr(worker_ctx, "entrypoint", None), "method_name", "?")
    record.levelno, record.levelname = logging.INFO, "INFO"
    record.msg = "%s.%s answered %s (%d): %s"
    record.args = (getattr(worker_ctx, "service_name", "?"), entrypoint, getattr(exc, "code", "error"), status, exc)
    record.exc_info = record.exc_text = None


class JsonFormatter(logging.Formatter):
    _reserved = set(vars(logging.makeLogRecord({}))) | {"message", "service", "entrypoint",
                                                        "correlation_id", "asctime"}

    def format(self, record):
        entry = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + ".%03dZ" % record.msecs,
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key in ("service", "entrypoint", "correlation_id"):
            value = getattr(record, key, None)
            if value:
                entry[key] = value
        # structured extras: log.info("...", extra={"event_id": ...})
        for key, value in vars(record).items():
            if key not in self._reserved and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = "".join(traceback.format_exception(*record.exc_info))
        return json.dumps(entry, default=str)
