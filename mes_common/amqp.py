"""A publisher that knows, per message, whether the broker routed and stored it.

Publisher confirms + ``mandatory``: RabbitMQ sends ``basic.return`` for an
unroutable message *before* the ``basic.ack`` that confirms it, so after the
confirm arrives we know whether the message was returned. py-amqp raises a
``basic.return`` as an exception unless a handler is registered, which would
leave that message's ack to be misread by the next publish; we register one.
"""
import logging
import threading

from amqp.exceptions import MessageNacked
from kombu import Connection, Producer

log = logging.getLogger(__name__)


class Unroutable(Exception):
    """No queue is bound for the message's routing key."""


class PublishFailed(Exception):
    """The broker did not confirm the message (down, nacked, connection lost)."""


class ConfirmingPublisher:
    def __init__(self, amqp_uri, connect_timeout=3.0, confirm_timeout=10.0):
        self.amqp_uri = amqp_uri
        self.connect_timeout = connect_timeout
        self.confirm_timeout = confirm_timeout
        self._conn = None
        self._producer = None
        self._returned = set()
        self._declared = set()
        # one publish at a time on the channel: confirms are matched in order
        self._lock = threading.Lock()

    def _on_return(self, exc, exchange, routing_key, message):
        self._returned.add(message.properties.get("message_id"))

    def _ensure(self):
        if self._producer is not None and self._conn.connected:
            return self._producer
        self.close()
        conn = Connection(self.amqp_uri, connect_timeout=self.connect_timeout,
                          transport_options={"confirm_publish": True})
        conn.ensure_connection(max_retries=1)
        channel = conn.channel()
        channel.events["basic_return"].add(self._on_return)
        self._conn, self._producer = conn, Producer(channel)
        self._declared.clear()
        return self._producer

    def publish(self, body, exchange, routing_key, message_id, headers=None, declare=(), **properties):
        """Publish persistently; return when the broker has confirmed it.

        Raises Unroutable when no queue took it, PublishFailed when it is not
        known to be stored. Either way the caller keeps it for a later try.
        """
        with self._lock:
            try:
                producer = self._ensure()
                to_declare = [e for e in declare if e.name not in self._declared]
                for entity in to_declare:
                    entity(producer.channel).declare()
                    self._declared.add(entity.name)
                self._returned.discard(message_id)
                producer.publish(
                    body, exchange=exchange, routing_key=routing_key, mandatory=True,
                    delivery_mode=2, serializer="json", headers=headers or {},
                    message_id=message_id, retry=False, timeout=self.confirm_timeout, **properties)
            except MessageNacked as exc:
                raise PublishFailed(f"broker nacked {message_id}") from exc
            except Exception as exc:
                self.close()
                raise PublishFailed(f"{type(exc).__name__}: {exc}") from exc
            if message_id in self._returned:
                self._returned.discard(message_id)
                raise Unroutable(f"no queue bound for {routing_key!r} on {exchange!r}")

    def close(self):
        conn, self._conn, self._producer = self._conn, None, None
        if conn is not None:
            try:
                conn.release()
            except Exception:  # a dead connection has nothing left to release
                pass


def broker_status(amqp_uri, timeout=1.0):
    """'ok', or why the broker cannot be reached (a login, not just a port)."""
    try:
        with Connection(amqp_uri, connect_timeout=timeout) as conn:
            conn.ensure_connection(max_retries=1, timeout=timeout)
        return "ok"
    except Exception as exc:
        return f"unavailable: {type(exc).__name__}: {exc}"[:200]
