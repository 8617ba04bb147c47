"""Secrets the auth service must read back (TOTP seeds) are sealed with a key
kept outside the database (AUTH.SECRETS_KEY_FILE, like the signing key): a
copy of the database or of a backup does not yield anyone's second factor.

Fernet (AES-128-CBC + HMAC-SHA256, from `cryptography`). Seeds stored before
sealing existed (plain base32) are still read, and sealed at the service's
next start (`seal_legacy`).
"""
import fcntl
import re

from cryptography.fernet import Fernet, InvalidToken

from auth_service.contract import keys

PREFIX = "f1:"
_legacy = re.compile(r"^[A-Z2-7]+=*$")   # a pyotp base32 seed in the clear


def secrets_key(config):
    """The Fernet key, generated on first use in development (AUTH.GENERATE_KEYS)."""
    auth = keys.settings(config)
    path = keys.resolve_path(auth["SECRETS_KEY_FILE"])
    if not path.exists():
        if not keys.truthy(auth["GENERATE_KEYS"]):
            raise RuntimeError(f"no secrets key at {path} and AUTH.GENERATE_KEYS=false")
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path.parent / ".keys.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not path.exists():
                keys.write_file(path, Fernet.generate_key().decode(), 0o600)
    return path.read_text().strip()


class Sealer:
    def __init__(self, key):
        self._fernet = Fernet(key.encode() if isinstance(key, str) else key)

    @classmethod
    def from_config(cls, config):
        return cls(secrets_key(config))

    def seal(self, secret):
        return PREFIX + self._fernet.encrypt(secret.encode()).decode()

    def open(self, stored):
        if stored is None:
            return None
        if not stored.startswith(PREFIX):
            if _legacy.match(stored):
                return stored
            raise ValueError("a stored secret is neither sealed nor a legacy seed")
        try:
            return self._fernet.decrypt(stored[len(PREFIX):].encode()).decode()
        except InvalidToken:
            raise ValueError("a stored secret does not open with AUTH.SECRETS_KEY_FILE (another key?)") from None

    @staticmethod
    def is_sealed(stored):
        return stored is None or stored.startswith(PREFIX)
