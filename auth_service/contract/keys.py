"""The access-token signing key pair, from configuration.

    AUTH:
      PRIVATE_KEY_FILE: var/auth/signing_key.pem      # auth_service only
      PUBLIC_KEY_FILE: var/auth/signing_key.pub.pem   # whoever verifies tokens
      GENERATE_KEYS: true                             # development: create on first start
      SECRETS_KEY_FILE: var/auth/secrets.key          # auth_service only: seals TOTP seeds

With `GENERATE_KEYS` the first process to start (auth service, gateway or the
CLI, whichever comes first) creates an Ed25519 pair; the others wait on a
file lock and read it. Production sets `GENERATE_KEYS` to false and mounts
both files (the private key readable by the auth service alone).
"""
import fcntl
from pathlib import Path

from mes_common import sealing
from mes_common.config import ROOT

from auth_service.contract.tokens import generate_keypair, public_of

DEFAULTS = {
    "ISSUER": "mes-auth",
    "AUDIENCE": "mes-api",
    "PRIVATE_KEY_FILE": "var/auth/signing_key.pem",
    "PUBLIC_KEY_FILE": "var/auth/signing_key.pub.pem",
    "GENERATE_KEYS": True,
    "SECRETS_KEY_FILE": "var/auth/secrets.key",
}


def settings(config):
    """The AUTH block of the config with defaults filled in."""
    return {**DEFAULTS, **(config.get("AUTH") or {})}


def resolve_path(value):
    path = Path(value)
    return path if path.is_absolute() else ROOT / path


def _ensure(config):
    auth = settings(config)
    private, public = resolve_path(auth["PRIVATE_KEY_FILE"]), resolve_path(auth["PUBLIC_KEY_FILE"])
    if public.exists() and (private.exists() or not truthy(auth["GENERATE_KEYS"])):
        return private, public
    if not truthy(auth["GENERATE_KEYS"]):
        raise RuntimeError(f"no access-token key pair at {private} / {public} and AUTH.GENERATE_KEYS=false")
    private.parent.mkdir(parents=True, exist_ok=True)
    public.parent.mkdir(parents=True, exist_ok=True)  # may be a directory of its own (the gateway's volume)
    with open(private.parent / ".keys.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be generating right now
        if private.exists() and not public.exists():  # keep the key: tokens signed with it stay valid
            write_file(public, public_of(private.read_text()), 0o644)
        elif not (private.exists() and public.exists()):
            private_pem, public_pem = generate_keypair()
            write_file(private, private_pem, 0o600)
            write_file(public, public_pem, 0o644)
    return private, public


def write_file(path, text, mode):
    sealing.write_private(path, text, mode)


def truthy(value):
    return value if isinstance(value, bool) else str(value).strip().lower() in ("1", "true", "yes", "on")


def private_key(config):
    return _ensure(config)[0].read_text()


def public_key(config):
    return _ensure(config)[1].read_text()
