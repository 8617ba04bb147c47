"""Rebuild the genealogy from the owners' event logs, while the old model
answers (mes_common.readmodel.rebuild says how)."""
from mes_common import readmodel
from traceability_service import projections, store
from traceability_service.contract import SOURCES

PROJECTOR = readmodel.Projector(project=projections.project, apply=store.apply)


def rebuild(sessionmaker, owners, progress=None, sources=SOURCES):
    """`owners`: {service name: RPC proxy}. Returns what it did."""
    return readmodel.rebuild(store.MODEL, PROJECTOR, sessionmaker, owners, sources, progress)
