"""TOTP second factor (RFC 6238) and single-use recovery codes.

Enrolment stores a pending secret; confirming it with a code enables MFA and
hands out recovery codes (shown once, stored hashed). Each TOTP code is
accepted once: the user's last accepted time step is kept and only later
steps pass. A recovery code stands in for one authenticator code.
"""
from sqlalchemy import delete, select, update

from auth_service import accounts, credentials, domain, passwords
from auth_service.models import RecoveryCode, User
from auth_service.contract import events
from mes_common import errors

USER = accounts.USER


def verify_second_factor(tx, sealer, user, code, now):
    """'totp' or 'recovery' when `code` is a valid, unused second factor of
    `user` (consuming it), else None."""
    code = (code or "").strip()
    if domain.looks_like_totp(code):
        step = domain.totp_step(sealer.open(user.totp_secret), code, now, user.totp_last_step)
        if step is None:
            return None
        accounts.bookkeep(tx.session, user, totp_last_step=step)
        return "totp"
    used = tx.session.execute(
        update(RecoveryCode).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None),
                                   RecoveryCode.code_hash == domain.recovery_code_hash(code))
        .values(used_at=now).returning(RecoveryCode.id)).scalar_one_or_none()
    if used is None:
        return None
    left = remaining_codes(tx.session, user.id)
    tx.audit("recovery_code_used", USER, user.id, new={"remaining": left}, actor=user.username)
    return "recovery"


def remaining_codes(session, user_id):
    return len(session.execute(select(RecoveryCode.id).where(
        RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None))).all())


def begin_totp(tx, sealer, user_id):
    user = accounts.get_user(tx.session, user_id, lock=True)
    if user.mfa_enabled:
        raise errors.Conflict("MFA is already enabled; disable it first to enrol a new authenticator",
                              {"mfa_enabled": True})
    secret = domain.new_totp_secret()
    user.totp_secret = sealer.seal(secret)
    user.totp_last_step = None
    tx.audit("mfa_enrolment_started", USER, user.id)  # never the secret
    uri = domain.provisioning_uri(secret, user.username)
    return {"secret": secret, "provisioning_uri": uri, "qr_svg": domain.qr_svg(uri)}


def _new_recovery_codes(tx, user):
    tx.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = domain.new_recovery_codes()
    tx.session.add_all([RecoveryCode(user_id=user.id, code_hash=domain.recovery_code_hash(c)) for c in codes])
    return codes


def confirm_totp(tx, sealer, user_id, code):
    """Enable MFA once the user shows a code of the pending secret; returns the
    recovery codes, or the error to raise after the commit (audited)."""
    user = accounts.get_user(tx.session, user_id, lock=True)
    if user.mfa_enabled:
        raise errors.Conflict("MFA is already enabled", {"mfa_enabled": True})
    if user.totp_secret is None:
        raise errors.RuleViolated("no enrolment in progress: start one first", {"code": ["nothing to confirm"]})
    step = domain.totp_step(sealer.open(user.totp_secret), code, accounts.now(), user.totp_last_step)
    if step is None:
        tx.audit("mfa_confirm_failed", USER, user.id)
        return errors.RuleViolated("the code does not match the authenticator", {"code": ["wrong code"]})
    user.totp_last_step, user.mfa_enabled = step, True
    codes = _new_recovery_codes(tx, user)
    tx.audit("mfa_enabled", USER, user.id, new={"mfa_enabled": True, "recovery_codes": len(codes)})
    tx.emit(events.USER_MFA_CHANGED, user.id, {"id": str(user.id), "mfa_enabled": True})
    return {"recovery_codes": codes}


def disable(tx, settings, throttle, address, user_id, password, code):
    """The user turns MFA off with both factors; refused while a role requires it."""
    user = accounts.get_user(tx.session, user_id, lock=True)
    if not user.mfa_enabled:
        raise errors.Conflict("MFA is not enabled", {"mfa_enabled": False})
    if domain.mfa_required(accounts.roles_of(tx.session, user.id)):
        raise errors.RuleViolated("a role of yours requires MFA", {"roles": ["require MFA"]})
    refused = credentials.guarded(
        tx, throttle, user, address, failed_action="mfa_disable_failed",
        verify=lambda: passwords.verify(user.password_hash, password) and verify_second_factor(
            tx, settings.sealer, user, code, accounts.now()) is not None,
        refused=errors.Unauthenticated("wrong password or code", {"password": ["wrong password or code"],
                                                                  "code": ["wrong password or code"]}))
    if refused is None:
        _turn_off(tx, user, "mfa_disabled")
    return refused


def reset(tx, user_id, reason=None):
    """An administrator clears a user's MFA (lost authenticator)."""
    user = accounts.get_user(tx.session, user_id, lock=True)
    _turn_off(tx, user, "mfa_reset", reason)
    return user


def seal_legacy_secrets(tx, sealer):
    """Seal TOTP seeds stored in the clear by a release before sealing; returns how many."""
    users = tx.session.execute(select(User).where(User.totp_secret.is_not(None)).with_for_update()).scalars()
    count = 0
    for user in users:
        if not sealer.is_sealed(user.totp_secret):
            accounts.bookkeep(tx.session, user, totp_secret=sealer.seal(user.totp_secret))
            count += 1
    if count:
        tx.audit("seal_totp_secrets", USER, "*", new={"sealed": count}, actor="system",
                 reason="TOTP seeds are stored sealed from this release on")
    return count


def _turn_off(tx, user, action, reason=None):
    was = user.mfa_enabled
    user.mfa_enabled, user.totp_secret, user.totp_last_step = False, None, None
    tx.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    tx.audit(action, USER, user.id, old={"mfa_enabled": was}, new={"mfa_enabled": False}, reason=reason)
    tx.emit(events.USER_MFA_CHANGED, user.id, {"id": str(user.id), "mfa_enabled": False})


def regenerate_recovery_codes(tx, settings, throttle, address, user_id, code):
    user = accounts.get_user(tx.session, user_id, lock=True)
    if not user.mfa_enabled:
        raise errors.Conflict("MFA is not enabled", {"mfa_enabled": False})
    refused = credentials.guarded(
        tx, throttle, user, address, failed_action="recovery_codes_refused",
        verify=lambda: domain.looks_like_totp(code) and verify_second_factor(
            tx, settings.sealer, user, code, accounts.now()) is not None,
        refused=errors.Unauthenticated("the authenticator code is wrong or was already used",
                                       {"code": ["wrong or already used"]}))
    if refused is not None:
        return refused
    codes = _new_recovery_codes(tx, user)
    tx.audit("recovery_codes_regenerated", USER, user.id, new={"recovery_codes": len(codes)})
    return {"recovery_codes": codes}
