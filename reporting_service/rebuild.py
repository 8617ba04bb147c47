"""Rebuild the production model from the owners' event logs, while the old
model answers (mes_common.readmodel.rebuild says how): the facts page by page,
then every operation's intervals and every bucket once, before the swap."""
from mes_common import readmodel
from reporting_service import projections, store
from reporting_service.contract import SOURCES

PROJECTOR = readmodel.Projector(project=projections.project, apply=store.apply_rebuilding, finish=store.finish)


def rebuild(sessionmaker, owners, progress=None, sources=SOURCES):
    """`owners`: {service name: RPC proxy}. Returns what it did."""
    return readmodel.rebuild(store.MODEL, PROJECTOR, sessionmaker, owners, sources, progress)
