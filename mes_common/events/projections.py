"""The projections of a read model: one pure function per event type, from a
CloudEvent to facts, registered by the type it projects.

    projects = Projections(CONSUMES, Facts)

    @projects(material.LOT_RECEIVED)
    def lot_received(facts, data): ...

    projects.project(event)   # the facts of one event (empty for a type not projected)
"""


def version(event):
    """Orders two facts about the same record: the event's time (UTC, microseconds,
    one format for every service), then its id."""
    return f"{event.time}|{event.id}"


class Projections:
    def __init__(self, consumes, facts):
        self.consumes, self.facts = consumes, facts
        self.by_type = {}   # event type -> fn(facts, data)

    def __call__(self, *types):
        def register(fn):
            for t in types:
                assert t in self.consumes, f"{t} is not in the contract's CONSUMES"
                self.by_type[t] = fn
            return fn
        return register

    def project(self, event):
        facts = self.facts(event)
        fn = self.by_type.get(event.type)
        if fn is not None:
            fn(facts, event.data or {})
        return facts
