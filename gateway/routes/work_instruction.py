"""/api/v1/work-instructions: versioned work instructions (work order service)."""
from gateway.http import json_body, query_args, route
from mes_common.rpc import RpcClient
from work_order_service import instruction_schemas as schemas

TAGS = ["work instructions"]
INSTRUCTIONS = "/api/v1/work-instructions"
INSTRUCTION = INSTRUCTIONS + "/<code>"


class WorkInstructionRoutes:
    """Mixed into the Gateway."""

    work_instructions = RpcClient("work_order_service")

    @route("POST", INSTRUCTIONS, summary="Create a work instruction (version 1, draft)", tags=TAGS,
           body=schemas.WorkInstructionCreate, response=schemas.WorkInstructionVersionOut, status=201,
           permission="work_instruction:write")
    def create_work_instruction(self, request):
        """Steps with their data-collection fields: names unique within a step; type number, text,
        boolean or choice; `choices` for a choice; `min` ≤ `max` for a number (400 naming
        `steps.<i>.fields.<j>.<key>` otherwise). A code used already is a 409: revise it."""
        return self.work_instructions.create_work_instruction(json_body(request, schemas.WorkInstructionCreate))

    @route("GET", INSTRUCTIONS, summary="List work instruction versions", tags=TAGS,
           query=schemas.WorkInstructionListQuery, response=schemas.WorkInstructionPage,
           permission="work_order:read", error_codes=(400, 503))
    def list_work_instructions(self, request):
        """Ordered by code then version; filter by code prefix and status."""
        return self.work_instructions.list_work_instructions(query_args(request, schemas.WorkInstructionListQuery))

    @route("GET", INSTRUCTION, summary="Get a work instruction version", tags=TAGS,
           query=schemas.WorkInstructionQuery, response=schemas.WorkInstructionVersionOut,
           permission="work_order:read", error_codes=(400, 404, 503))
    def get_work_instruction(self, request, code):
        """The version asked for, by default the newest one whatever its status."""
        return self.work_instructions.get_work_instruction(code, query_args(request, schemas.WorkInstructionQuery))

    @route("POST", INSTRUCTION + "/revisions", summary="Revise: the next version, as a draft", tags=TAGS,
           body=schemas.WorkInstructionRevise, response=schemas.WorkInstructionVersionOut, status=201,
           permission="work_instruction:write")
    def revise_work_instruction(self, request, code):
        """The released version stays in force until the new one is released."""
        return self.work_instructions.revise_work_instruction(code, json_body(request, schemas.WorkInstructionRevise))

    @route("POST", INSTRUCTION + "/versions/<version>/release", summary="Release a draft version", tags=TAGS,
           response=schemas.WorkInstructionVersionOut, permission="work_instruction:write")
    def release_work_instruction(self, request, code, version):
        """Released versions never change; the older versions become obsolete. Work orders
        released from now on freeze this version into their operations."""
        return self.work_instructions.release_work_instruction(code, version)
