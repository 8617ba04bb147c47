"""Events the auth service publishes. `subject` is the entity's id (a role's
name for roles); `data`:

- role.created / role.updated: RoleOut
- user.created / user.updated: UserSummary (the display fields others cache)
- user.roles_changed: {id, roles}
- user.mfa_changed: {id, mfa_enabled}
- user.locked: {id, username, address} (failed secrets filled the last rung at that address)
- session.revoked: {session_id, user_id, reason}
- security.refresh_token_reused: {session_id, user_id, username, address}
- security.signature_failed: {user_id, username, session_id, meaning, components}
"""
ROLE_CREATED = "mes.auth.role.created"
ROLE_UPDATED = "mes.auth.role.updated"
USER_CREATED = "mes.auth.user.created"
USER_UPDATED = "mes.auth.user.updated"
USER_ROLES_CHANGED = "mes.auth.user.roles_changed"
USER_MFA_CHANGED = "mes.auth.user.mfa_changed"
USER_LOCKED = "mes.auth.user.locked"
SESSION_REVOKED = "mes.auth.session.revoked"
REFRESH_TOKEN_REUSED = "mes.auth.security.refresh_token_reused"
SIGNATURE_FAILED = "mes.auth.security.signature_failed"

EVENT_TYPES = (ROLE_CREATED, ROLE_UPDATED, USER_CREATED, USER_UPDATED, USER_ROLES_CHANGED, USER_MFA_CHANGED,
               USER_LOCKED, SESSION_REVOKED, REFRESH_TOKEN_REUSED, SIGNATURE_FAILED)
