"""RPC entrypoints of work instructions; mixed into WorkOrderService, which
provides `self.uow` (UnitOfWork) and `self._caller()` (the worker's context data)."""
from mes_common import signatures
from mes_common.rpc import rpc
from mes_common.schemas import load
from work_order_service.contract import instructions as schemas
from work_order_service.instructions import use_cases as instructions
from work_order_service.models import Signature


class WorkInstructionEntrypoints:

    @rpc
    def create_work_instruction(self, data):
        """Version 1 of a new code, as a draft."""
        data = load(schemas.WorkInstructionCreate(), data)
        with self.uow() as tx:
            instruction = instructions.create(tx, self._caller(), data)
        return self._instruction_out(instruction)

    @rpc
    def revise_work_instruction(self, code, data):
        """The next version of `code`, as a draft."""
        code = load(schemas.WorkInstructionKey(), {"code": code})["code"]
        data = load(schemas.WorkInstructionRevise(), data)
        with self.uow() as tx:
            instruction = instructions.revise(tx, self._caller(), code, data)
        return self._instruction_out(instruction)

    @rpc
    def release_work_instruction(self, code, version, data=None):
        """Release a draft version, signed by the releasing person (approval); older
        versions become obsolete."""
        key = load(schemas.WorkInstructionVersionKey(), {"code": code, "version": version})
        data = self._load_signed(schemas.WorkInstructionRelease(), data)
        with self.uow() as tx:   # a short transaction: none stays open during the auth service's check
            draft = instructions.check_releasable(tx.session, key["code"], key["version"])
        manifest = self._signature(instructions.RECORD, draft.id, signatures.APPROVAL, data.get("signature"))
        with self.uow() as tx:
            instruction = instructions.release(tx, self._caller(), key["code"], key["version"], manifest)
        return self._instruction_out(instruction)

    @rpc
    def get_work_instruction(self, code, query=None):
        """A version of `code` (`{"version": n}`), by default the newest whatever its status."""
        code = load(schemas.WorkInstructionKey(), {"code": code})["code"]
        query = load(schemas.WorkInstructionQuery(), query)
        return self._instruction_out(instructions.get(self.uow.session, code, query["version"]))

    def _instruction_out(self, instruction):
        """The version with the signature of its release, valid while it is as it was signed."""
        return {**instructions.dump(instruction), "signatures": signatures.for_record(
            self.uow.session, Signature, instructions.RECORD, instruction.id, instructions.signed_content(instruction))}

    @rpc
    def list_work_instructions(self, query=None):
        return instructions.list_page(self.uow.session, load(schemas.WorkInstructionListQuery(), query))
