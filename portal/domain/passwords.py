"""Password rules and hashing."""
import gzip
import secrets
from functools import cache
from pathlib import Path

from flask_babel import lazy_gettext as _l
from werkzeug.security import check_password_hash, generate_password_hash

from portal.domain.errors import DomainError

# Letters and digits that cannot be mistaken for one another on a small screen (no 0/o, 1/l/i).
UNAMBIGUOUS = "23456789abcdefghjkmnpqrstuvwxyz"
# 19 640 common passwords (the list Django ships, BSD licence), lower-cased.
COMMON_PASSWORDS_FILE = Path(__file__).parent.parent / "data" / "common-passwords.txt.gz"


class WeakPassword(DomainError):
    field = "new_password"


def hash_secret(secret: str) -> str:
    return generate_password_hash(secret)


@cache
def dummy_hash() -> str:
    """A hash of a random secret nobody knows, made like every real one (same method, same cost)."""
    return generate_password_hash(secrets.token_urlsafe(16))


def check_secret(hashed: str | None, secret: str) -> bool:
    """Whether ``secret`` matches ``hashed``. Without a hash a dummy one is checked, and False returned:
    "no such user" then costs the same time as "wrong password" (no enumeration by timing)."""
    if not hashed:
        check_password_hash(dummy_hash(), secret)
        return False
    return check_password_hash(hashed, secret)


def generate_temporary_password(length: int) -> str:
    return "".join(secrets.choice(UNAMBIGUOUS) for _ in range(length))


@cache
def common_passwords() -> frozenset[str]:
    with gzip.open(COMMON_PASSWORDS_FILE, "rt", encoding="utf-8") as f:
        return frozenset(line.strip().lower() for line in f if line.strip())


def check_new_password(password: str, *, msisdn: str | None, min_length: int) -> None:
    """At least ``min_length`` characters, not the phone number, not a common password."""
    if len(password) < min_length:
        raise WeakPassword(_l("At least %(n)d characters, please.", n=min_length))
    if len(password) > 128:
        raise WeakPassword(_l("At most 128 characters, please."))
    if msisdn and msisdn[-10:] in password:
        raise WeakPassword(_l("The password must not contain your phone number."))
    if password.lower() in common_passwords():
        raise WeakPassword(_l("This password is on the list of the most common ones. Choose another."))
