"""Quality service: inspection plans and control points
(quality_service.plans), inspections with their sampling, results and
verdicts (quality_service.inspections), nonconformance reports with the
MRB's signed disposition (quality_service.ncrs), corrective and preventive
actions with signed effectiveness and closure (quality_service.capas),
control charts with frozen limits and run rules (quality_service.spc), QIF
3.0 plans and results in and out (quality_service.qif), AS9102 First
Article Inspection reports (quality_service.fai).

Entrypoints only: validate with the contract's schemas, run a use case in one
unit of work, dump the answer.
"""
from nameko.dependency_providers import Config

from material_service import contract as material_contract
from mes_common import errors
from mes_common.cache import ReferenceDataCache
from mes_common.db import UnitOfWork
from mes_common.rpc import RpcClient
from mes_common.service import ServiceBase
from quality_service import contract
from quality_service.capas.entrypoints import CapaEntrypoints
from quality_service.fai.entrypoints import FaiEntrypoints
from quality_service.inspections.entrypoints import InspectionEntrypoints
from quality_service.models import AuditEntry, Base, InboxEvent, OutboxEvent, Signature
from quality_service.ncrs.entrypoints import NcrEntrypoints
from quality_service.plans.entrypoints import PlanEntrypoints
from quality_service.qif.entrypoints import QifEntrypoints
from quality_service.spc.entrypoints import SpcEntrypoints


class QualityService(PlanEntrypoints, InspectionEntrypoints, NcrEntrypoints, CapaEntrypoints, SpcEntrypoints,
                     QifEntrypoints, FaiEntrypoints, ServiceBase):
    name = contract.SERVICE

    uow = UnitOfWork(Base, OutboxEvent, InboxEvent, AuditEntry, Signature)
    config = Config()
    cache = ReferenceDataCache()
    auth = RpcClient("auth_service")
    material = RpcClient("material_service")
    resource = RpcClient("resource_service")
    work_order = RpcClient("work_order_service")

    def _part(self, part_id):
        """The part's display fields (reference cache, else the material service), or 422."""
        part = self.cache.summary(material_contract.PART_KIND, part_id, self.material.get_part_summaries)
        if part is None:
            raise errors.RuleViolated(f"part_id: no part {part_id}", {"part_id": [f"no part {part_id}"]})
        return part
