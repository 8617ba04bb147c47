"""The auth service's public face: the only part of it that the gateway, other
services and other packages' tests import (none of it pulls in argon2 or
zxcvbn).

- `schemas`: RPC input and output schemas (the gateway's HTTP schemas too);
- `events`: the event types it publishes and what their `data` holds;
- `permissions`: the permission catalogue and the built-in roles;
- `tokens`, `keys`, `revocations`: what a verifier of access tokens needs
  (the token format, the public key, the revoked-session list);
- here: its name, the reference-cache kind of user summaries, the event types
  it consumes.
"""
SERVICE = "auth_service"
USER_KIND = "user"  # reference cache kind (mes_common.cache): users' display fields, schemas.UserSummary
MAX_PASSWORD_LENGTH = 128  # characters (ASVS 5.0: at least 64 allowed)

CONSUMES = frozenset()
