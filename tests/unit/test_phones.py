import pytest

from portal.domain.phones import InvalidPhone, format_msisdn, mask_msisdn, parse_msisdn


@pytest.mark.parametrize("typed", ["8 916 123-45-67", "+7 (916) 123 45 67", "79161234567", "9161234567",
                                   "8(916)1234567", " +79161234567 "])
def test_usual_forms_mean_the_same_line(typed):
    assert parse_msisdn(typed) == "+79161234567"


@pytest.mark.parametrize("typed", ["", "abc", "123", "+7 000 000-00-00", "1" * 41, "+44 20"])
def test_garbage_is_refused_on_the_phone_field(typed):
    with pytest.raises(InvalidPhone) as err:
        parse_msisdn(typed)
    assert err.value.field == "phone"


def test_foreign_numbers_in_international_form():
    assert parse_msisdn("+44 20 7946 0958") == "+442079460958"


def test_format_and_mask():
    assert format_msisdn("+79161234567") == "+7 916 123-45-67"
    assert mask_msisdn("+79161234567") == "+7 916 ***-**-67"
