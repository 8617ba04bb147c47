"""`mes traceability rebuild|status`: the read model's operator commands."""
from mes_common.commands import main
from mes_common.commands.readmodel import read_model_commands
from traceability_service import rebuild, store
from traceability_service.contract import SERVICE, SOURCES


@main.group()
def traceability():
    """The genealogy read model: rebuild it from the event logs, see its state."""


read_model_commands(traceability, service=SERVICE, sources=SOURCES, rebuild=rebuild.rebuild, model=store.MODEL,
                    describe=lambda c: f"{c['nodes']} nodes, {c['edges']} edges, {c['timeline']} timeline entries")
