"""The development provider's page: the card is typed here, on the "provider's" side, never on the portal's pages."""
from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, StringField
from wtforms.validators import InputRequired, Length

from portal.forms import PortalForm


class DevCardForm(PortalForm):
    card_number = StringField(_l("Card number"),
                              validators=[InputRequired(_l("Enter the card number.")), Length(max=30)],
                              render_kw={"inputmode": "numeric", "autocomplete": "cc-number", "maxlength": 30})
    expiry = StringField(_l("Valid until (MM/YY)"),
                         validators=[InputRequired(_l("Enter the expiry date.")), Length(max=7)],
                         # "text", not "numeric": a phone's numeric keypad has no "/".
                         render_kw={"inputmode": "text", "autocomplete": "cc-exp", "maxlength": 7,
                                    "placeholder": "08/28"})
    # Never written back into the page nor restored by the browser on Back.
    cvc = PasswordField(_l("CVC"), validators=[InputRequired(_l("Enter the CVC.")), Length(max=4)],
                        render_kw={"inputmode": "numeric", "autocomplete": "off", "maxlength": 4})


class DevCodeForm(PortalForm):
    code = StringField(_l("Confirmation code"), validators=[InputRequired(_l("Enter the code.")), Length(max=12)],
                       render_kw={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": 12})


class DevUssdForm(PortalForm):
    """The development USSD phone: a number of ours and what is dialled on it."""

    msisdn = StringField(_l("Number"), validators=[InputRequired(_l("Enter the number.")), Length(max=20)],
                         render_kw={"inputmode": "tel", "maxlength": 20})
    code = StringField(_l("Dial"), validators=[InputRequired(_l("Dial a code, e.g. *100#.")), Length(max=40)],
                       render_kw={"inputmode": "tel", "maxlength": 40, "placeholder": "*100#"})
