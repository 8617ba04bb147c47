"""The Integration service's RPC and HTTP schemas: none yet (its routes come with the imports)."""
