"""The CloudEvents 1.0 structured-JSON envelope of every MES event
(ARCHITECTURE.md §4): id, source, type, time, subject, data, and the
extensions correlationid, causationid and actor."""
import datetime as dt
import uuid
from dataclasses import dataclass, field

SPECVERSION = "1.0"


class InvalidEnvelope(ValueError):
    pass


@dataclass(frozen=True)
class CloudEvent:
    id: str
    source: str
    type: str
    time: str
    subject: str | None = None
    data: dict = field(default_factory=dict)
    correlationid: str | None = None
    causationid: str | None = None
    actor: str | None = None
    specversion: str = SPECVERSION
    datacontenttype: str = "application/json"

    REQUIRED = ("id", "source", "type", "specversion", "time")

    @classmethod
    def new(cls, type_, source, subject, data, correlationid=None, causationid=None, actor=None):
        event_id = str(uuid.uuid4())
        return cls(id=event_id, source=source, type=type_, subject=subject, data=data,
                   time=dt.datetime.now(dt.timezone.utc).isoformat(timespec="microseconds"),
                   correlationid=correlationid or event_id, causationid=causationid, actor=actor)

    @classmethod
    def from_dict(cls, body):
        if not isinstance(body, dict):
            raise InvalidEnvelope(f"event body is {type(body).__name__}, not a CloudEvents object")
        missing = [k for k in cls.REQUIRED if not body.get(k)]
        if missing:
            raise InvalidEnvelope(f"event lacks {', '.join(missing)}")
        if body["specversion"] != SPECVERSION:
            raise InvalidEnvelope(f"unsupported specversion {body['specversion']!r}")
        try:
            uuid.UUID(str(body["id"]))
        except ValueError:
            raise InvalidEnvelope(f"event id {body['id']!r} is not a UUID") from None
        known = {k: body.get(k) for k in ("id", "source", "type", "time", "subject", "correlationid",
                                          "causationid", "actor", "datacontenttype")
                 if body.get(k) is not None}
        data = body.get("data")
        if data is not None and not isinstance(data, dict):
            raise InvalidEnvelope("event data must be an object")
        return cls(data=data or {}, **known)

    def to_dict(self):
        return {k: v for k, v in self.__dict__.items() if v is not None}


class EventFamily:
    """The event types of one entity of a contract: `mes.<service>.<entity>.<verb>`
    for the verbs it publishes. `family(verb)` is a type (a verb it does not
    publish is a programming error); `family.types` lists them all."""

    def __init__(self, service, entity, verbs):
        self.prefix, self.verbs = f"mes.{service}.{entity}", tuple(verbs)
        self.types = tuple(f"{self.prefix}.{verb}" for verb in self.verbs)

    def __call__(self, verb):
        assert verb in self.verbs, verb
        return f"{self.prefix}.{verb}"
