"""Secrets a signed-in user types again: the current password of a change,
the codes of MFA changes, an administrator's step-up, e-signature
credentials. Every check runs under the same account throttle as sign-in, at
the caller's address: a stolen access token does not buy unlimited guesses,
and failures here count towards the sign-in lock at that address.
"""
from auth_service.contract import events
from mes_common import errors

USER = "user"   # the audit entity type (accounts.USER)


def locked(tx, user, attempt):
    """The account's last rung filled at one address: audited and published for
    security monitoring. Nothing else happens to the account: its sessions go
    on and it can still sign in from elsewhere."""
    tx.audit("account_locked", USER, user.id, new=attempt, actor="system")
    tx.emit(events.USER_LOCKED, user.id, {"id": str(user.id), "username": user.username,
                                          "address": attempt.get("address")})


def guarded(tx, throttle, user, address, verify, *, failed_action, refused, attempt=None):
    """None when `verify()` finds the typed secrets right; else the error to
    raise once the audit entry of the failure is committed: `refused` (counted
    against the account at `address`) or Throttled (not checked at all)."""
    attempt = {**(attempt or {}), "address": address}
    try:
        throttle.check(account=user.username, address=address)
    except errors.Throttled as exc:
        refusals = throttle.refusals(user.username, address, exc.retry_after, scope=exc.scope)
        if refusals is not None:   # one row per throttled window
            tx.audit(failed_action, USER, user.id, new={**attempt, "reason": "throttled",
                                                        "refused_in_previous_window": refusals})
        return exc
    if verify():
        throttle.clear(user.username, address)
        return None
    if throttle.failed(account=user.username, address=address):
        locked(tx, user, attempt)
    tx.audit(failed_action, USER, user.id, new={**attempt, "reason": "wrong credentials"})
    return refused
