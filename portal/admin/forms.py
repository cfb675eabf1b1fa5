from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    IntegerField,
    PasswordField,
    RadioField,
    SearchField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from portal.domain import simlock
from portal.domain.bounds import db_int
from portal.domain.catalog import CONNECTION_TYPES, MAX_DESCRIPTION, MAX_PACKAGE, MAX_SPEED
from portal.domain.services import CATEGORIES, CATEGORY_LABELS
from portal.forms import CheckboxListField, IdempotentForm, MoneyField, PortalForm


class StaffLoginForm(PortalForm):
    email = EmailField(_l("E-mail"), validators=[InputRequired(_l("Enter your e-mail.")), Length(max=120)],
                       render_kw={"autocomplete": "username", "maxlength": 120})
    password = PasswordField(_l("Password"), validators=[InputRequired(_l("Enter the password.")),
                                                         Length(max=128)],
                             render_kw={"autocomplete": "current-password", "maxlength": 128})


class CustomerSearchForm(PortalForm):
    class Meta:
        csrf = False  # a GET search changes nothing

    q = SearchField(_l("Number, contract, name or operation code"), validators=[Length(max=100)],
                    render_kw={"maxlength": 100, "autocomplete": "off"})

    def validate_q(self, field):
        # A part of a number is looked for from 4 digits (fewer match half the base): say so rather than
        # answer "nobody found".
        written = (field.data or "").strip().lstrip("+").replace(" ", "").replace("-", "")
        if written.isdigit() and len(written) < 4:
            raise ValidationError(_l("Type at least 4 digits of the number."))


class SmsOutboxFilterForm(PortalForm):
    """The staff outbox by delivery state (a GET filter)."""

    class Meta:
        csrf = False  # a GET filter changes nothing

    state = SelectField(_l("State"), choices=[], default="")

    def __init__(self, *args, states: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.state.choices = [("", _l("all")), *states.items()]


# ---- the catalog ------------------------------------------------------------------------

KIND_LABELS = {"mobile": _l("Mobile"), "home": _l("Home internet"), "tv": _l("TV")}
REQUIRED = _l("This field is required.")
CHOOSE = _l("Choose from the list.")


class CountField(StringField):
    """A whole package amount (minutes, SMS, MB): digits only, 0 to MAX_PACKAGE."""

    def process_data(self, value):
        self.data = value

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        text = valuelist[0].replace(" ", "").strip()
        if not (text.isascii() and text.isdigit() and len(text) <= 9 and int(text) <= MAX_PACKAGE):
            self.data = None
            raise ValueError(str(_l("Enter a whole number from 0 to %(max)s.", max=MAX_PACKAGE)))
        self.data = int(text)

    def _value(self):
        if self.raw_data:
            return self.raw_data[0][:20]
        return str(self.data) if self.data is not None else ""


def code_field():
    return StringField(_l("Code"), validators=[InputRequired(REQUIRED), Length(max=40)],
                       render_kw={"maxlength": 40, "autocomplete": "off", "spellcheck": "false"})


def name_field():
    return StringField(_l("Name"), validators=[InputRequired(REQUIRED), Length(max=100)],
                       render_kw={"maxlength": 100})


def money_field(label):
    return MoneyField(label, validators=[InputRequired(REQUIRED)], default=0,
                      render_kw={"inputmode": "decimal", "maxlength": 16})


def count_field(label):
    return CountField(label, validators=[InputRequired(REQUIRED)], default=0,
                      render_kw={"inputmode": "numeric", "maxlength": 9})


def description_field(label=_l("Description")):
    return TextAreaField(label, validators=[Length(max=MAX_DESCRIPTION)],
                         render_kw={"maxlength": MAX_DESCRIPTION, "rows": 3})


def name_en_field():
    return StringField(_l("Name in English"), validators=[Length(max=100)], render_kw={"maxlength": 100},
                       description=_l("Empty: the name reads the same in English."))


class OptionalMoneyField(MoneyField):
    """Roubles, or nothing at all (``.data`` None)."""

    def process_formdata(self, valuelist):
        if valuelist and not valuelist[0].strip():
            self.data = None
            return
        super().process_formdata(valuelist)


CHANGE_LABELS = {"now": _l("At once"), "next_period": _l("From the next billing period")}


class CatalogForm(PortalForm):
    def values(self) -> dict:
        """Keyword values for the domain function, one per field it takes."""
        return {name: field.data for name, field in self._fields.items() if name not in ("csrf_token",)}


class TariffForm(CatalogForm):
    code = code_field()
    name = name_field()
    kind = SelectField(_l("Kind"), choices=[SelectChoice(k, KIND_LABELS[k]) for k in ("mobile", "home")],
                       invalid_choice_message=CHOOSE)
    region = StringField(_l("Region"), validators=[Length(max=64)],
                         render_kw={"maxlength": 64, "list": "regions", "autocomplete": "off"})
    monthly_fee = money_field(_l("Monthly fee, ₽"))
    switch_fee = money_field(_l("Switching fee, ₽"))
    minutes = count_field(_l("Minutes"))
    sms = count_field(_l("SMS"))
    mms = count_field(_l("MMS"))
    data_mb = count_field(_l("Data, MB"))
    unlimited_data = BooleanField(_l("Unlimited data"))
    speed_mbps = IntegerField(_l("Speed, Mbit/s"), validators=[Optional(), NumberRange(1, MAX_SPEED)],
                              render_kw={"inputmode": "numeric", "min": 1, "max": MAX_SPEED})
    connection_types = CheckboxListField(_l("Connection types that carry it"),
                                            choices=[(t, t.upper()) for t in CONNECTION_TYPES],
                                            invalid_choice_message=CHOOSE)
    change_effective = SelectField(_l("A switch to it takes effect"), default="now", invalid_choice_message=CHOOSE,
                                   choices=[SelectChoice(k, v) for k, v in CHANGE_LABELS.items()])
    pause_monthly_fee = OptionalMoneyField(_l("Monthly fee while paused, ₽"),
                                           render_kw={"inputmode": "decimal", "maxlength": 16})
    description = description_field()
    name_en = name_en_field()
    description_en = description_field(_l("Description in English"))


class ServiceForm(CatalogForm):
    code = code_field()
    name = name_field()
    category = SelectField(_l("Category"), choices=[SelectChoice(c, CATEGORY_LABELS[c]) for c in CATEGORIES],
                           invalid_choice_message=CHOOSE)
    kind = SelectField(_l("Kind"), choices=[SelectChoice(k, KIND_LABELS[k]) for k in ("mobile", "home", "tv")],
                       invalid_choice_message=CHOOSE)
    connection_fee = money_field(_l("Connection fee, ₽"))
    monthly_fee = money_field(_l("Monthly fee, ₽"))
    daily_fee = MoneyField(_l("Daily fee, ₽"), validators=[Optional()], default=0,
                           description=_l("Charged every day instead of monthly (blacklist, ringback tones)."),
                           render_kw={"inputmode": "decimal", "maxlength": 16})
    refund_unused = BooleanField(_l("Refund the unused part of the month on disconnection"))
    tariff_ids = SelectMultipleField(_l("Compatible tariffs"), coerce=db_int, invalid_value_message=CHOOSE,
                                     invalid_choice_message=CHOOSE)
    conflict_ids = SelectMultipleField(_l("Cannot work together with"), coerce=db_int,
                                       invalid_value_message=CHOOSE, invalid_choice_message=CHOOSE)
    description = description_field()
    name_en = name_en_field()
    description_en = description_field(_l("Description in English"))

    def set_choices(self, tariffs, services, *, own_id=None, linked=()):
        """Non-archived tariffs (and any archived one already linked) by kind; every other service."""
        offered = [t for t in tariffs if not t.archived or t.id in linked]
        self.tariff_ids.choices = [
            SelectChoice(t.id, _label(t), optgroup=str(KIND_LABELS[t.kind]))
            for t in sorted(offered, key=lambda t: (t.kind != "mobile", t.name))
        ]
        self.tariff_ids.render_kw = {"size": min(8, max(3, len(offered)))}
        others = [s for s in services if s.id != own_id]
        self.conflict_ids.choices = [SelectChoice(s.id, _label(s)) for s in others]
        self.conflict_ids.render_kw = {"size": min(8, max(3, len(others)))}


def _label(item) -> str:
    return f"{item.name} ({item.code}{', ' + str(_l('archived')) if item.archived else ''})"


class AdjustmentForm(IdempotentForm):
    direction = RadioField(_l("Direction"), choices=[("credit", _l("Credit")), ("debit", _l("Debit"))],
                           default="credit", validators=[InputRequired(_l("Credit or debit?"))])
    amount = MoneyField(_l("Amount, ₽"), validators=[InputRequired(_l("Enter the amount."))],
                        render_kw={"inputmode": "decimal", "maxlength": 20})
    reason = StringField(_l("Reason"), validators=[InputRequired(_l("Say why.")), Length(max=200)],
                         render_kw={"maxlength": 200})


class StaffUnblockForm(PortalForm):
    """Lift a customer's own block (lost or voluntary) on their call, with the reason."""

    reason = StringField(_l("Reason for unblocking"), validators=[InputRequired(_l("Say why.")), Length(max=200)],
                         render_kw={"maxlength": 200})


class VoucherBatchForm(PortalForm):
    count = IntegerField(_l("Cards"), validators=[InputRequired(_l("How many cards?")), NumberRange(1, 1000)],
                         render_kw={"min": 1, "max": 1000})
    amount = MoneyField(_l("Amount of each, ₽"), validators=[InputRequired(_l("Enter the amount."))],
                        render_kw={"inputmode": "decimal", "maxlength": 20})


class CodeWordCheckForm(PortalForm):
    answer = PasswordField(_l("The caller's answer"), validators=[InputRequired(_l("Type what the caller said.")),
                                                                 Length(max=100)],
                           render_kw={"maxlength": 100, "autocomplete": "off"})


# ---- SIM reissue and port-out (portal.admin.sim) ----------------------------------------

class SimReissueForm(IdempotentForm):
    iccid = StringField(_l("ICCID of the new SIM card"), validators=[InputRequired(_l("Type the ICCID.")),
                                                                    Length(max=40)],
                        render_kw={"maxlength": 40, "inputmode": "numeric", "autocomplete": "off"})


class PortOutForm(IdempotentForm):
    recipient = StringField(_l("Operator the number goes to"), validators=[
        InputRequired(_l("Name the operator the number goes to.")), Length(max=simlock.MAX_RECIPIENT)],
        render_kw={"maxlength": simlock.MAX_RECIPIENT, "autocomplete": "off"})
    requested_on = DateField(_l("Date of the request"), validators=[InputRequired(_l("Give the date."))],
                             render_kw={"max": "9999-12-31"})


class IdentityCheckForm(PortalForm):
    document_type = SelectField(_l("Document checked"), choices=[("", _l("Choose…")), *simlock.DOCUMENT_TYPES.items()],
                                validators=[InputRequired(_l("Choose the document checked."))])
    document_last4 = StringField(_l("Last 4 characters of its number"), validators=[
        InputRequired(_l("The last 4 characters of the document's number.")), Length(min=4, max=4)],
        render_kw={"maxlength": 4, "autocomplete": "off", "size": 4})


# ---- the customer's ways in (portal.admin.ways_in) ----------------------------------------

class WaysInForm(IdempotentForm):
    """Remove one passkey, linked account or feed key: the button is the whole form."""


class ShutWaysInForm(IdempotentForm):
    confirm = BooleanField(_l("Yes, shut every way in of this personal account"),
                           validators=[InputRequired(_l("Tick the box to confirm."))])
