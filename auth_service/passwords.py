"""Password rules and hashing (OWASP ASVS 5.0 L2, 21 CFR 11.300). Pure: no I/O.

- Length 12 to 128 characters, counted after consecutive spaces are folded;
  every printable Unicode character allowed, no composition rules.
- Weak and common passwords refused by a strength estimator (zxcvbn), which
  also knows the user's own name, e-mail and display name.
- A password containing the username is refused; so is one of the last five.
- Hashing is argon2id (argon2-cffi's defaults, RFC 9106's second recommended
  profile); a hash made with older parameters is flagged for rehash at login.

Under eventlet (a running service) hashing goes to a native thread: argon2
holds the CPU for ~0.1-0.3 s and 64 MiB, which would freeze every other call
of the process; at most HASH_CONCURRENCY run at once to bound the memory.
"""
import functools
import re
import unicodedata

import eventlet.patcher

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from zxcvbn import zxcvbn

from auth_service.contract import MAX_PASSWORD_LENGTH
from mes_common import errors

MIN_LENGTH = 12
MAX_LENGTH = MAX_PASSWORD_LENGTH
MIN_SCORE = 3          # zxcvbn: 0 too guessable ... 4 very unguessable
HISTORY = 5            # previous passwords that cannot be reused
ESTIMATOR_INPUT = 100  # zxcvbn's cost grows with length; beyond this a password is long enough anyway

HASH_CONCURRENCY = 2   # the machine's cores, roughly: more only queues in memory

_hasher = PasswordHasher()
_spaces = re.compile(r" {2,}")


@functools.cache
def _hash_slots():
    from eventlet.semaphore import Semaphore
    return Semaphore(HASH_CONCURRENCY)


def _offload(fn, *args):
    """Run a CPU-heavy argon2 call without blocking the eventlet hub (when there is one)."""
    if not eventlet.patcher.is_monkey_patched("thread"):
        return fn(*args)
    from eventlet import tpool
    with _hash_slots():
        return tpool.execute(fn, *args)


@functools.cache
def dummy_hash():
    """Verified against when the user does not exist, so an unknown user and a
    wrong password cost the same time (made on first use, not at import)."""
    return _hasher.hash("not a real password: equal timing for unknown users")


def normalize(password):
    """NFC, so the same password typed on another keyboard hashes the same."""
    return unicodedata.normalize("NFC", password)


def problems(password, *, username, user_inputs=(), previous_hashes=()):
    """Everything wrong with a new password, as messages (empty: acceptable)."""
    password = normalize(password)
    found = []
    length = len(_spaces.sub(" ", password))
    if length < MIN_LENGTH:
        found.append(f"at least {MIN_LENGTH} characters (spaces count once in a row)")
    if len(password) > MAX_LENGTH:
        found.append(f"at most {MAX_LENGTH} characters")
    if any(unicodedata.category(c) in ("Cc", "Cs") for c in password):
        found.append("control characters are not allowed")
    if found:
        return found
    if username and len(username) >= 3 and username.casefold() in password.casefold():
        found.append("must not contain the username")
    # the estimator matches whole tokens: give it the words of name and e-mail
    personal = [w for text in (username, *user_inputs) for w in re.split(r"[\s@._\-]+", text or "") if w]
    strength = zxcvbn(password[:ESTIMATOR_INPUT], user_inputs=[username, *user_inputs, *personal])
    if strength["score"] < MIN_SCORE:
        advice = strength["feedback"].get("warning") or "too easy to guess"
        found.append(f"too weak: {advice}".rstrip("."))
    if any(verify(h, password) for h in list(previous_hashes)[:HISTORY]):
        found.append(f"must differ from the last {HISTORY} passwords")
    return found


def check(password, **kwargs):
    """Raise RuleViolated naming the `password` field unless acceptable (a policy,
    not a shape the OpenAPI document could state: 422)."""
    found = problems(password, **kwargs)
    if found:
        raise errors.RuleViolated("the password does not meet the policy", {"password": found})


def hash_password(password):
    return _offload(_hasher.hash, normalize(password))


def verify(password_hash, password):
    """Constant-time check; False for a wrong password or an unusable hash."""
    try:
        return _offload(_hasher.verify, password_hash, normalize(password))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash):
    """True when the hash was made with weaker parameters than today's."""
    return _hasher.check_needs_rehash(password_hash)
