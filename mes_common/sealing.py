"""Secrets a service must read back (auth's TOTP seeds, integration's endpoint credentials) are sealed with
a key kept outside the database: a copy of the database or of a backup does not yield them.

Fernet (AES-128-CBC + HMAC-SHA256, from `cryptography`). The key is a file, generated on first use where the
deployment allows it (development), mounted otherwise."""
import fcntl
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

PREFIX = "f1:"   # a sealed value, so a store can tell it from a legacy plain one


def write_private(path, text, mode=0o600):
    """Write a key file readable by its owner only, atomically."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.replace(tmp, path)


def key_file(path, generate, setting):
    """The Fernet key in `path`, generated first when missing and `generate` (processes starting together
    agree on one: a lock file beside it). `setting` names the config entry in the error."""
    path = Path(path)
    if not path.exists():
        if not generate:
            raise RuntimeError(f"no secrets key at {path} ({setting}) and key generation is off")
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path.parent / ".keys.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not path.exists():
                write_private(path, Fernet.generate_key().decode())
    return path.read_text().strip()


class Sealer:
    def __init__(self, key, setting="the secrets key"):
        self._fernet = Fernet(key.encode() if isinstance(key, str) else key)
        self._setting = setting

    def seal(self, secret):
        return PREFIX + self._fernet.encrypt(secret.encode()).decode()

    def open(self, stored):
        if stored is None:
            return None
        if not stored.startswith(PREFIX):
            raise ValueError("a stored secret is not sealed")
        try:
            return self._fernet.decrypt(stored[len(PREFIX):].encode()).decode()
        except InvalidToken:
            raise ValueError(f"a stored secret does not open with {self._setting} (another key?)") from None

    @staticmethod
    def is_sealed(stored):
        return stored is None or stored.startswith(PREFIX)
