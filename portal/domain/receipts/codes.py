"""Operation codes: 8 random characters of an unambiguous alphabet, shown as ``K7QM-4XPD``.

A person reads one out over the phone or types it from an SMS, so the alphabet has no 0/O and 1/I (and the letters
that look alike in Cyrillic are taken for their Latin twins when typed). 32 symbols, 8 of them: 40 random bits, so
no code says anything about another, and a code on someone else's number is never found by trying (the lookup
searches the asker's own accounts only, and is rate-limited).
"""
import re
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import LedgerEntry

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
LENGTH = 8
# The money operations a customer makes themselves (and staff corrections, which they ask about): their entries
# get a code. Billing charges (set-based) and the parts of an operation (its fee, a promised payment repaid from a
# top-up) do not. A caller may ask for a code on another kind (a tariff change, a connected service).
CODED_KINDS = frozenset({"card_topup", "voucher", "transfer_in", "transfer_out", "promised_credit", "bonus",
                         "adjustment"})
# What people type for a Latin letter: the Cyrillic letter that looks the same (a Russian keyboard layout).
_LOOKALIKES = str.maketrans("АВЕКМНРСТХУ", "ABEKMHPCTXY")
_CODE = re.compile(f"^[{ALPHABET}]{{{LENGTH}}}$")
_TRIES = 5


def generate() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def new_code(session: Session) -> str:
    """A code no entry has yet. The unique index is the guarantee; the check first keeps a (1 in 10^12) clash from
    failing the whole operation's commit, which the idempotency helpers would take for a twin submission."""
    for _ in range(_TRIES):
        code = generate()
        if session.scalar(select(LedgerEntry.id).where(LedgerEntry.code == code)) is None:
            return code
    raise RuntimeError("no free operation code after several tries")  # pragma: no cover - 40 random bits


def normalise(typed: str | None) -> str | None:
    """The code a person typed (any case, with or without the dash or spaces, Cyrillic look-alikes), or None when it
    cannot be one."""
    text = "".join(ch for ch in (typed or "")[:40].upper().translate(_LOOKALIKES) if ch.isalnum())
    return text if _CODE.match(text) else None


def grouped(code: str | None) -> str:
    """``K7QM4XPD`` as people read it: ``K7QM-4XPD``."""
    if not code:
        return ""
    half = len(code) // 2
    return f"{code[:half]}-{code[half:]}"
