import pytest

from portal.domain.passwords import UNAMBIGUOUS, WeakPassword, check_new_password, generate_temporary_password


def test_temporary_passwords_are_random_and_unambiguous():
    passwords = {generate_temporary_password(8) for _ in range(200)}
    assert len(passwords) == 200
    assert all(set(p) <= set(UNAMBIGUOUS) for p in passwords)
    assert not set("0o1lI") & set(UNAMBIGUOUS)


@pytest.mark.parametrize("password", ["short", "qwertyuiop", "Password1", "x9161234567y", "a" * 129])
def test_weak_passwords(password):
    with pytest.raises(WeakPassword):
        check_new_password(password, msisdn="+79161234567", min_length=8)


def test_a_good_password_passes():
    check_new_password("blue-kettle-77", msisdn="+79161234567", min_length=8)


def test_outside_the_tests_secrets_are_hashed_at_werkzeugs_full_cost(monkeypatch):
    """tests/conftest.py makes hashing cheap for the suite; the portal itself keeps werkzeug's default."""
    import werkzeug.security

    from portal.domain import passwords

    monkeypatch.setattr(passwords, "generate_password_hash", werkzeug.security.generate_password_hash)
    hashed = passwords.hash_secret("blue-kettle-77")
    assert hashed.startswith("scrypt:32768:8:1$") and passwords.check_secret(hashed, "blue-kettle-77")
