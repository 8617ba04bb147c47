"""Credential checks for electronic signatures (21 CFR 11.200(a), 11.50).

The service that owns a signed record (a buy-off, a release, an MRB
disposition) calls `auth_service.verify_signature` (mes_common.signatures)
with the signer's session, the credentials typed at the moment of signing and
the record, and stores what comes back in its `signature` table: the signer's
printed name, the meaning, the components checked, bound to that record with a
nonce the table takes once.

- The signer is the session's own user: nobody signs in another's session.
- The first signing of a continuous session uses every component: username,
  password, and the authenticator code when MFA is enabled. Later signings in
  the same session need at least one (the password). A session idle longer
  than the timeout is no longer continuous.
- Failures count on the signer's account throttle at the caller's address (as
  sign-in failures do), are audited and published as security events.
"""
import uuid

from sqlalchemy import select

from auth_service import accounts, credentials, domain, mfa, passwords
from auth_service.models import Session
from auth_service.contract import events
from auth_service.contract.schemas import SignatureManifest
from mes_common import errors

manifest_out = SignatureManifest()


def verify(tx, settings, throttle, data, address=None):
    """The signature manifest, or the error to raise after the commit."""
    session, now = tx.session, accounts.now()
    login_session = session.execute(select(Session).where(Session.id == data["session_id"])
                                    .with_for_update()).scalar_one_or_none()
    if login_session is None or str(login_session.user_id) != str(data["user_id"]) or \
            domain.session_end_reason(login_session, now, settings.idle_timeout) is not None:
        raise errors.Unauthenticated("the signer's session has ended; sign in again", {"session_id": ["ended"]})
    user = accounts.get_user(session, login_session.user_id, lock=True)
    if domain.signature_needs_all_components(login_session, now, settings.idle_timeout):
        needed = ["username", "password"] + (["totp"] if user.mfa_enabled else [])
    else:
        needed = ["password"]
    missing = {c: ["required for this signature"] for c in needed if not data.get(c)}
    if missing:
        raise errors.RuleViolated("the signature needs these credentials: " + ", ".join(missing), missing)

    def verify():
        ok = user.active and passwords.verify(user.password_hash, data["password"])
        if "username" in needed:
            ok = ok and data["username"].strip().casefold() == user.username.casefold()
        if ok and "totp" in needed:
            ok = mfa.verify_second_factor(tx, settings.sealer, user, data["totp"], now) is not None
        return ok

    attempt = {"session_id": str(login_session.id), "meaning": data["meaning"], "components": needed,
               "record": data["record"]}
    refused = credentials.guarded(
        tx, throttle, user, address, verify, failed_action="signature_failed", attempt=attempt,
        refused=errors.Unauthenticated("the signature credentials are wrong",
                                       {c: ["wrong credentials"] for c in needed}))
    if refused is not None:
        if not isinstance(refused, errors.Throttled):
            tx.emit(events.SIGNATURE_FAILED, user.id, {"user_id": str(user.id), "username": user.username, **attempt})
        return refused
    login_session.last_signed_at = now
    login_session.last_seen_at = now
    manifest = manifest_out.dump({
        "signer_id": user.id, "username": user.username, "printed_name": user.display_name, "signed_at": now,
        "meaning": data["meaning"], "components": needed, "record": data["record"], "nonce": uuid.uuid4()})
    tx.audit("signature_verified", accounts.USER, user.id, new=manifest, actor=user.username)
    return manifest
