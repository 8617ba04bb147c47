import pytest
from argon2 import PasswordHasher

from auth_service import passwords
from mes_common import errors

pytestmark = pytest.mark.fast  # no servers: `make test-fast`

GOOD = "vintage-orbit-lantern-27"


def test_a_strong_password_is_accepted():
    assert passwords.problems(GOOD, username="jdoe") == []


@pytest.mark.parametrize("password,expected", [
    ("short-1A!", "at least 12 characters"),
    ("a" + " " * 20 + "b", "at least 12 characters"),         # runs of spaces count once
    ("x" * 129, "at most 128 characters"),
    ("password1234", "too weak"),                              # common
    ("aaaaaaaaaaaaaaaa", "too weak"),                          # repetitive
    ("jdoe-vintage-orbit-99", "must not contain the username"),
    ("bad\x00password-orbit-lantern", "control characters"),
])
def test_policy_refusals_name_the_reason(password, expected):
    with pytest.raises(errors.RuleViolated) as exc:
        passwords.check(password, username="jdoe")
    assert any(expected in m for m in exc.value.details["password"]), exc.value.details


def test_no_composition_rules_and_unicode_allowed():
    assert passwords.problems("correct horse battery staple", username="jdoe") == []
    assert passwords.problems("größenwahn über den wolken", username="jdoe") == []


def test_the_users_own_details_make_a_password_weak():
    email = "jonathan.doe@acme-aero.com"   # strong on its own, guessable for this user
    assert passwords.problems(email, username="jdoe") == []
    assert any("too weak" in m for m in passwords.problems(email, username="jdoe", user_inputs=[email]))


def test_last_five_passwords_cannot_be_reused():
    history = [passwords.hash_password(f"{GOOD}-{i}") for i in range(6)]
    assert "must differ from the last 5 passwords" in passwords.problems(
        f"{GOOD}-0", username="jdoe", previous_hashes=history)
    # the sixth-newest has left the window
    assert passwords.problems(f"{GOOD}-5", username="jdoe", previous_hashes=history) == []


def test_hash_is_argon2id_and_verifies_normalized_input():
    h = passwords.hash_password("Cafe\u0301-orbit-lantern-27")   # decomposed é
    assert h.startswith("$argon2id$")
    assert passwords.verify(h, "Caf\u00e9-orbit-lantern-27")      # composed é
    assert not passwords.verify(h, "Cafe-orbit-lantern-27")
    assert not passwords.verify("not a hash", GOOD)


def test_weaker_parameters_are_flagged_for_rehash():
    old = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(GOOD)
    assert passwords.verify(old, GOOD)
    assert passwords.needs_rehash(old)
    assert not passwords.needs_rehash(passwords.hash_password(GOOD))


def test_dummy_hash_verifies_nothing():
    assert not passwords.verify(passwords.dummy_hash(), GOOD)
