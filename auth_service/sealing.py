"""Secrets the auth service must read back (TOTP seeds) are sealed with a key
kept outside the database (AUTH.SECRETS_KEY_FILE, like the signing key): a
copy of the database or of a backup does not yield anyone's second factor
(mes_common.sealing). Seeds stored before sealing existed (plain base32) are
still read, and sealed at the service's next start (`seal_legacy`).
"""
import re

from auth_service.contract import keys
from mes_common import sealing
from mes_common.sealing import PREFIX  # noqa: F401  (what a sealed seed starts with)

_legacy = re.compile(r"^[A-Z2-7]+=*$")   # a pyotp base32 seed in the clear


def secrets_key(config):
    """The Fernet key, generated on first use in development (AUTH.GENERATE_KEYS)."""
    auth = keys.settings(config)
    return sealing.key_file(keys.resolve_path(auth["SECRETS_KEY_FILE"]), keys.truthy(auth["GENERATE_KEYS"]),
                            "AUTH.SECRETS_KEY_FILE")


class Sealer(sealing.Sealer):
    def __init__(self, key):
        super().__init__(key, "AUTH.SECRETS_KEY_FILE")

    @classmethod
    def from_config(cls, config):
        return cls(secrets_key(config))

    def open(self, stored):
        if stored is not None and not stored.startswith(PREFIX) and _legacy.match(stored):
            return stored
        if stored is not None and not stored.startswith(PREFIX):
            raise ValueError("a stored secret is neither sealed nor a legacy seed")
        return super().open(stored)
