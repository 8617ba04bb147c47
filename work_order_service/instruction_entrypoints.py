"""RPC entrypoints of work instructions (being built for issue 4); mixed into WorkOrderService."""


class WorkInstructionEntrypoints:
    pass
