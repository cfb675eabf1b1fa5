"""SMPP codec: GSM-7 and UCS-2 payloads, long messages split with a user data header, receipt parsing."""
import pytest

from portal.domain.websms import GSM7_BASIC, GSM7_EXTENSION, GSM7_TABLE, sms_parts, split_text
from portal.sms.smpp import (
    ESM_UDHI,
    SmppError,
    address,
    decode_gsm7,
    encode_gsm7,
    encode_message,
    error_for,
    is_receipt,
    parse_receipt,
)


def test_the_gsm7_table_is_the_alphabet_the_part_counter_uses_in_code_order():
    assert len(GSM7_TABLE) == 128
    assert frozenset(GSM7_TABLE) - {"\x1b"} == GSM7_BASIC
    assert (GSM7_TABLE.index("@"), GSM7_TABLE.index("\x1b"), GSM7_TABLE.index("§"), GSM7_TABLE.index("¿"),
            GSM7_TABLE.index("à")) == (0x00, 0x1B, 0x5F, 0x60, 0x7F)


def test_gsm7_is_one_septet_an_octet_and_an_extension_character_is_escape_plus_code():
    assert encode_gsm7("A@") == bytes((0x41, 0x00))
    assert encode_gsm7("€[") == bytes((0x1B, 0x65, 0x1B, 0x3C))
    assert encode_gsm7("§¿ä") == bytes((0x5F, 0x60, 0x7B))
    every = "".join(sorted(GSM7_BASIC | GSM7_EXTENSION))
    assert decode_gsm7(encode_gsm7(every)) == every
    with pytest.raises(ValueError):
        encode_gsm7("я")


def test_a_short_text_is_one_submit_without_a_header():
    encoded = encode_message("Your code 1234", reference=7)
    assert (encoded.data_coding, encoded.esm_class) == (0, 0)
    assert encoded.payloads == (b"Your code 1234",)
    russian = encode_message("Пароль: 1234", reference=7)
    assert (russian.data_coding, russian.esm_class) == (8, 0)
    assert russian.payloads == ("Пароль: 1234".encode("utf-16-be"),)


def test_160_gsm7_characters_fit_in_one_and_161_make_two_parts_of_153_with_a_header():
    assert len(encode_message("x" * 160, reference=1).payloads) == 1
    encoded = encode_message("x" * 161, reference=300)
    assert encoded.esm_class == ESM_UDHI
    first, second = encoded.payloads
    assert first[:6] == bytes((0x05, 0x00, 0x03, 300 % 256, 2, 1)) and len(first) == 6 + 153
    assert second[:6] == bytes((0x05, 0x00, 0x03, 44, 2, 2)) and second[6:] == b"x" * 8


def test_a_long_ucs2_message_is_split_in_parts_of_67_never_through_a_surrogate_pair():
    text = "Ваш счёт пополнен на 500 ₽. " * 9 + "😀" * 10
    encoded = encode_message(text, reference=5)
    encoding, parts, _ = sms_parts(text)
    assert encoding == "ucs2" and encoded.data_coding == 8 and len(encoded.payloads) == parts
    joined = b"".join(payload[6:] for payload in encoded.payloads).decode("utf-16-be")
    assert joined == text  # every part decodes on its own too: no pair is cut
    for number, payload in enumerate(encoded.payloads, start=1):
        assert payload[:6] == bytes((5, 0, 3, 5, parts, number))
        assert len(payload) - 6 <= 134
        payload[6:].decode("utf-16-be")


def test_an_extension_character_is_never_split_between_parts():
    text = "x" * 152 + "€" + "y" * 7  # 161 septets: two parts, and the escape would be the 153rd
    _, chunks = split_text(text)
    assert chunks == ["x" * 152, "€yyyyyyy"]
    encoded = encode_message(text, reference=1)
    assert encoded.payloads[0][6:] == b"x" * 152 and encoded.payloads[1][6:] == bytes((0x1B, 0x65)) + b"y" * 7


def test_split_text_agrees_with_the_part_counter():
    for text in ("", "a", "a" * 160, "a" * 161, "я" * 70, "я" * 71, "€" * 80, "€" * 81, "😀" * 35, "😀" * 36,
                 "ab€" * 200):
        encoding, chunks = split_text(text)
        assert (encoding, len(chunks)) == sms_parts(text)[:2] and "".join(chunks) == text


def test_an_empty_or_huge_message_is_refused_for_good():
    with pytest.raises(SmppError) as empty:
        encode_message("", reference=1)
    assert empty.value.permanent
    with pytest.raises(SmppError) as huge:
        encode_message("x" * 153 * 256, reference=1)
    assert huge.value.permanent


def test_receipt_text_gives_the_id_and_the_state():
    text = b"id:0A1B2C sub:001 dlvrd:001 submit date:2612070400 done date:2612070401 stat:DELIVRD err:000 text:Hi"
    assert parse_receipt(text) == parse_receipt(text.decode()) == \
        type(parse_receipt(text))("0A1B2C", "delivered", "DELIVRD", "000")
    assert parse_receipt(b"id:7 stat:UNDELIV err:001").state == "failed"
    assert parse_receipt(b"id:7 stat:REJECTD").state == "failed"
    assert parse_receipt(b"id:7 stat:EXPIRED").state == "expired"
    interim = parse_receipt(b"id:7 stat:ENROUTE")
    assert (interim.state, interim.stat) == (None, "ENROUTE")
    assert parse_receipt(b"no id here stat:DELIVRD") is None


def test_the_tlvs_win_over_the_text():
    receipt = parse_receipt(b"id:12 stat:DELIVRD", receipted_message_id=b"0C\x00", message_state=5)
    assert (receipt.smsc_id, receipt.state, receipt.stat) == ("0C", "failed", "UNDELIV")
    assert parse_receipt(b"", receipted_message_id="99", message_state=3).state == "expired"


def test_only_esm_class_receipts_are_receipts():
    class Pdu:
        def __init__(self, esm_class):
            self.esm_class = esm_class

    assert is_receipt(Pdu(0x04)) and not is_receipt(Pdu(0x00)) and not is_receipt(Pdu(0x40))


def test_errors_are_throttled_passing_or_permanent():
    assert error_for(0x58).throttled and not error_for(0x58).permanent  # ESME_RTHROTTLED
    assert error_for(0x14).throttled and not error_for(0x14).permanent  # ESME_RMSGQFUL
    assert not error_for(0x08).permanent and not error_for(0x08).throttled  # ESME_RSYSERR
    assert error_for(0x0B).permanent and "0x0000000B" in str(error_for(0x0B))  # ESME_RINVDSTADR
    assert not SmppError("connection lost").permanent


def test_addresses():
    assert address("+79161234567") == (1, 1, "79161234567")
    assert address("0611") == (0, 1, "0611")
    assert address("TestTel") == (5, 0, "TestTel")
