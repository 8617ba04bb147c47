"""Events that are never lost and never applied twice (ARCHITECTURE.md §4),
by concern:

- `envelope`: the CloudEvents envelope;
- `topology`: exchanges and queues (quorum handler queues, delay queues, DLQs);
- `outbox`: the relay that publishes a service's outbox;
- `handlers`: `event_handler`, the reliable, inbox-idempotent consumer;
- `dead_letters`: listing and replaying what handlers gave up on.
"""
