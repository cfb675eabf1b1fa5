"""Card details as people type them."""
from datetime import date

import pytest

from portal.domain.payments import BadCard, parse_card
from portal.payment_gateway.test_mode import SUCCEEDS

TODAY = date(2026, 12, 7)


@pytest.mark.parametrize("typed", ["12/29", "1229", "12 29", "12-29", " 12 / 29 ", "12.29"])
def test_the_expiry_is_read_with_or_without_a_separator(typed):
    assert parse_card(SUCCEEDS, typed, "123", today=TODAY).expiry == "12/29"


def test_a_one_digit_month_needs_a_separator():
    assert parse_card(SUCCEEDS, "8/29", "123", today=TODAY).expiry == "08/29"
    with pytest.raises(BadCard) as refused:
        parse_card(SUCCEEDS, "829", "123", today=TODAY)
    assert refused.value.field == "expiry"


@pytest.mark.parametrize("typed", ["13/29", "00/29", "12/2029x", "122", "12/2", "ab/cd", "", "12//29"])
def test_an_unreadable_expiry_is_refused_on_its_field(typed):
    with pytest.raises(BadCard) as refused:
        parse_card(SUCCEEDS, typed, "123", today=TODAY)
    assert refused.value.field == "expiry"


def test_an_expired_card_is_refused():
    with pytest.raises(BadCard, match="expired"):
        parse_card(SUCCEEDS, "1126", "123", today=TODAY)
