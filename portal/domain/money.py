"""Amounts typed by people: roubles with optional kopecks, to integer kopecks. Never float."""
import re
from decimal import Decimal

from flask_babel import lazy_gettext as _l

from portal import formatting
from portal.domain.errors import DomainError

AMOUNT = re.compile(r"([0-9]{1,9})(?:[.,]([0-9]{1,2}))?", re.ASCII)


class BadAmount(DomainError):
    field = "amount"


def parse_rubles(text: str | None, *, maximum: int | None = None) -> int:
    """``"500"``, ``"500.5"``, ``"500,50"``, ``"1 500"``, ``"15000 ₽"`` → kopecks, exactly."""
    cleaned = re.sub(r"[\s\u00a0\u202f]", "", text or "")[:40].removesuffix("₽").removesuffix("руб")
    if cleaned.startswith("-"):
        raise BadAmount(_l("The amount cannot be negative."))
    match = AMOUNT.fullmatch(cleaned)
    if match is None:
        raise BadAmount(_l("Enter an amount in roubles, for example 500 or 500,50."))
    kopecks = int(Decimal(f"{match[1]}.{match[2] or '0'}").scaleb(2))
    if maximum is not None and kopecks > maximum:
        raise BadAmount(_l("The amount is too large: at most %(max)s.", max=formatting.money(maximum, whole=True)))
    return kopecks


def format_rubles(kopecks: int) -> str:
    """Kopecks as people type them back: 55050 → "550.50"."""
    return str(Decimal(kopecks).scaleb(-2).quantize(Decimal("0.01")))
