from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, IntegerField, PasswordField, RadioField, SelectField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from portal.domain.bounds import db_int
from portal.forms import IdempotentForm, PortalForm, phone_field


class TopupForm(IdempotentForm):
    """The amount and how to pay (a card on the provider's page, or СБП in the bank app): the card is typed on the
    payment provider's page, never on ours."""

    amount = StringField(_l("Amount, ₽"), validators=[InputRequired(_l("Enter the amount.")), Length(max=20)],
                         render_kw={"inputmode": "decimal", "maxlength": 20, "autocomplete": "off"})
    method = RadioField(_l("How to pay"), choices=[("card", _l("Bank card")),
                                                   ("sbp", _l("SBP, the Faster Payments System"))],
                        default="card", validate_choice=True)  # absent (an older page): a card, as before
    save_card = BooleanField(_l("Remember this card for next time"))


class SavedCardTopupForm(IdempotentForm):
    """A one-tap top-up from a saved card: the amount and which card; the provider holds the rest."""

    amount = StringField(_l("Amount, ₽"), validators=[InputRequired(_l("Enter the amount.")), Length(max=20)],
                         render_kw={"inputmode": "decimal", "maxlength": 20, "autocomplete": "off"})
    card = RadioField(_l("Card"), coerce=int, validate_choice=True, validators=[InputRequired(_l("Choose a card."))])


class TransferForm(IdempotentForm):
    recipient = phone_field(_l("To number"))
    amount = StringField(_l("Amount, ₽"), validators=[InputRequired(_l("Enter the amount.")), Length(max=20)],
                         render_kw={"inputmode": "decimal", "maxlength": 20, "autocomplete": "off"})


class CodeForm(PortalForm):
    code = StringField(_l("Code from the SMS"), validators=[InputRequired(_l("Enter the code.")), Length(max=12)],
                       render_kw={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": 12})


class VoucherForm(PortalForm):
    code = StringField(_l("Card number"), validators=[InputRequired(_l("Enter the number from the card.")),
                                                      Length(max=40)],
                       render_kw={"inputmode": "numeric", "autocomplete": "off", "maxlength": 40})
    pin = PasswordField(_l("PIN"), validators=[InputRequired(_l("Enter the PIN under the protective layer.")),
                                               Length(max=8)],
                        render_kw={"inputmode": "numeric", "autocomplete": "off", "maxlength": 8})


class PromisedForm(IdempotentForm):
    amount = StringField(_l("Amount, ₽"), validators=[InputRequired(_l("Enter the amount.")), Length(max=20)],
                         render_kw={"inputmode": "decimal", "maxlength": 20, "autocomplete": "off"})


class AutoPaymentForm(PortalForm):
    kind = RadioField(_l("When"), choices=[("threshold", _l("When the balance falls below")),
                                           ("monthly", _l("Every month on a day"))], default="threshold",
                      validators=[InputRequired(_l("Choose when to top up."))])
    threshold = StringField(_l("Balance below, ₽"), validators=[Optional(), Length(max=20)],
                            render_kw={"inputmode": "decimal", "maxlength": 20})
    day = IntegerField(_l("Day of the month"), validators=[Optional(), NumberRange(1, 28, _l("From 1 to 28."))],
                       render_kw={"inputmode": "numeric", "min": 1, "max": 28})
    amount = StringField(_l("Top up by, ₽"), validators=[InputRequired(_l("Enter the amount.")), Length(max=20)],
                         render_kw={"inputmode": "decimal", "maxlength": 20})
    # Checked on the server; no "required" in the HTML, which would ask for an empty first choice.
    card = SelectField(_l("Card"), coerce=db_int, validate_choice=True,
                       validators=[InputRequired(_l("Choose a card."))], render_kw={"required": False})


class RewardForm(IdempotentForm):
    """Spend points on the reward named by the URL."""


class PointsTransferForm(IdempotentForm):
    recipient = phone_field(_l("To number"))
    points = IntegerField(_l("Points"), validators=[InputRequired(_l("Enter the number of points.")),
                                                    NumberRange(1, 10**6, _l("A whole number of points."))],
                          render_kw={"inputmode": "numeric", "min": 1})


class FindOperationForm(PortalForm):
    """An operation by its code (from the SMS or a receipt): a GET lookup on the customer's own numbers."""

    class Meta:
        csrf = False  # a lookup changes nothing

    code = StringField(_l("Operation code"), validators=[InputRequired(_l("Enter the code.")), Length(max=40)],
                       render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false",
                                  "maxlength": 40, "placeholder": "K7QM-4XPD"})
