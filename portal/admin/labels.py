"""Words for the codes staff pages show: states, purposes, reasons and roles (never the raw code)."""
from flask_babel import lazy_gettext as _l

from portal.admin import bp
from portal.domain.history import KIND_LABELS

PAYMENT_STATES = {"created": _l("created"), "pending": _l("on the payment page"),
                  "confirmed": _l("confirmed"), "declined": _l("declined")}
DECLINE_REASONS = {"insufficient_funds": _l("not enough money on the card"),
                   "unknown_test_card": _l("unknown card"), "3ds_failed": _l("3-D Secure not passed"),
                   "card_declined": _l("refused by the bank"), "expired": _l("payment page expired"),
                   "canceled_by_customer": _l("canceled on the payment page"),
                   "not_created": _l("the provider did not answer")}
# queued → sent (the SMSC or the provider took it) → delivered | failed | expired (its delivery receipts).
SMS_STATES = {"queued": _l("queued"), "sent": _l("sent"), "delivered": _l("delivered"), "failed": _l("failed"),
              "expired": _l("expired")}
SMS_PURPOSES = {"password": _l("SMS password"), "captcha": _l("captcha"), "alert": _l("alert"),
                "notice": _l("notice"), "transfer_code": _l("transfer code"), "close_code": _l("switch-off code"),
                "home_link_code": _l("home contract code"), "internet_settings": _l("internet settings"),
                "parental_pin": _l("parental PIN"), "voicemail_pin": _l("voicemail PIN"),
                "web": _l("SMS from the site"), "accept": _l("document acceptance code")}
ROLES = {"support": _l("support"), "admin": _l("administrator")}
LABELS = {"ledger_kind": KIND_LABELS, "payment": PAYMENT_STATES, "decline": DECLINE_REASONS, "sms": SMS_STATES,
          "sms_purpose": SMS_PURPOSES, "role": ROLES}


def label(group: str, code: str | None) -> str:
    """The words for ``code``; an unknown code (a new provider's reason) is shown as it is."""
    if not code:
        return ""
    return str(LABELS[group].get(code, code))


@bp.app_context_processor
def staff_labels():
    return {"staff_label": label}
