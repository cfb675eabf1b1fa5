"""Amounts typed by people: roubles with optional kopecks, to integer kopecks. Never float."""
import re
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l

from portal.domain.errors import DomainError

AMOUNT = re.compile(r"^\d{1,9}([.,]\d{1,2})?$")


class BadAmount(DomainError):
    field = "amount"


def parse_rubles(text: str) -> int:
    """``"500"``, ``"500.5"``, ``"500,50"``, ``"1 500"`` → kopecks; anything else is refused."""
    cleaned = (text or "").strip().replace("\u00a0", "").replace(" ", "").removesuffix("₽").removesuffix("руб")
    if not AMOUNT.match(cleaned):
        raise BadAmount(_l("Enter an amount in roubles, for example 500 or 500.50."))
    try:
        return int(Decimal(cleaned.replace(",", ".")) * 100)
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
        raise BadAmount(_l("Enter an amount in roubles, for example 500 or 500.50.")) from None
