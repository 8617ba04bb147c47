"""Work instructions: versioned steps with data-collection fields, released
versions frozen into work orders, and step buy-offs (a sub-context of the
work order service with its own rules, use cases and entrypoints)."""
