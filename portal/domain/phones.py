"""Phone numbers: parsed from what people type, stored in E.164 (docs/architecture.md §2)."""
from functools import lru_cache

import phonenumbers
from flask_babel import lazy_gettext as _l

from portal.domain.errors import DomainError

MAX_INPUT = 40
# The number placeholders and messages show: nobody's own (the demo's and the tests' numbers are 916 ones),
# so an example never reads as "your number" nor is the one number a form refuses (forwarding to itself).
EXAMPLE_NUMBER = "+7 900 123-45-67"
EXAMPLE_CONTRACT = "HC-123456"  # likewise for home contract numbers (the demo's is HC-100200)


class InvalidPhone(DomainError):
    field = "phone"


def parse_msisdn(text: str, region: str = "RU") -> str:
    """``8 916 123-45-67``, ``79161234567`` and ``+7 (916) 123 45 67`` all give ``+79161234567``."""
    text = (text or "").strip()
    if not text or len(text) > MAX_INPUT:
        raise InvalidPhone(_l("Enter a mobile number, for example %(example)s.", example=EXAMPLE_NUMBER))
    digits = "".join(ch for ch in text if ch.isdigit())
    if region == "RU" and len(digits) == 11 and digits[0] in "78" and not text.startswith("+"):
        text = "+7" + digits[1:]  # domestic 8-prefix and bare 7-prefix forms
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise InvalidPhone(_l("This does not look like a phone number. Example: %(example)s.",
                              example=EXAMPLE_NUMBER)) from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone(_l("This number does not exist. Check the digits, for example %(example)s.",
                              example=EXAMPLE_NUMBER))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@lru_cache(maxsize=8192)  # phonenumbers takes ≈ 50 µs; a page of call details repeats the same few numbers
def format_msisdn(msisdn: str) -> str:
    """``+79161234567`` → ``+7 916 123-45-67``."""
    try:
        number = phonenumbers.parse(msisdn, None)
    except phonenumbers.NumberParseException:
        return msisdn
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def mask_msisdn(msisdn: str) -> str:
    """``+79161234567`` → ``+7 916 ***-**-67``: enough to recognise, not to copy."""
    shown = format_msisdn(msisdn)
    out, digits_seen = [], 0
    total = sum(ch.isdigit() for ch in shown)
    country = len(str(phonenumbers.parse(msisdn, None).country_code)) if shown.startswith("+") else 0
    for ch in shown:
        if ch.isdigit():
            digits_seen += 1
            hide = country + 3 < digits_seen <= total - 2
            out.append("*" if hide else ch)
        else:
            out.append(ch)
    return "".join(out)
