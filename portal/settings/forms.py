from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import get_timezone_location
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TimeField,
)
from wtforms.validators import EqualTo, InputRequired, Length, NumberRange, Optional, ValidationError

from portal.domain.bounds import db_int
from portal.domain.forwarding import CONDITION_LABELS
from portal.domain.phones import EXAMPLE_NUMBER
from portal.domain.preferences import TIME_ZONES
from portal.forms import CheckboxListField, IdempotentForm, MoneyField, PhoneField, PortalForm


class PasswordForm(PortalForm):
    current_password = PasswordField(_l("Current password"), validators=[Length(max=128)],
                                     render_kw={"autocomplete": "current-password", "maxlength": 128})
    new_password = PasswordField(_l("New password"),
                                 validators=[InputRequired(_l("Choose a new password.")), Length(max=128)],
                                 render_kw={"autocomplete": "new-password", "maxlength": 128})
    confirm = PasswordField(_l("New password again"),
                            validators=[InputRequired(_l("Type the new password once more.")),
                                        EqualTo("new_password", _l("The two passwords differ."))],
                            render_kw={"autocomplete": "new-password", "maxlength": 128})


class PreferencesForm(PortalForm):
    language = SelectField(_l("Language"), choices=[("ru", "Русский"), ("en", "English")])
    timezone = SelectField(_l("Time zone"), description=_l("Times on the pages and in SMS alerts are shown in it."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.timezone.choices = [(zone, zone_label(zone)) for zone in TIME_ZONES]


def zone_label(zone: str) -> str:
    """"Asia/Yekaterinburg" → "Yekaterinburg (UTC+5)", in the reader's language where Babel knows the city."""
    offset = datetime.now(ZoneInfo(zone)).utcoffset()
    hours = int(offset.total_seconds() // 3600)
    return f"{get_timezone_location(zone, locale=get_locale(), return_city=True)} (UTC{hours:+d})"


class CloseForm(PortalForm):
    code = StringField(_l("Code from the SMS"), validators=[InputRequired(_l("Type the code from the SMS.")),
                                                            Length(max=12)],
                       render_kw={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": 12})
    confirm = BooleanField(_l("I understand: I will be signed out everywhere"),
                           validators=[InputRequired(_l("Tick the box to confirm."))])


class AlertsForm(PortalForm):
    low_balance = BooleanField(_l("The balance goes below"))
    low_balance_below = MoneyField(_l("Amount, ₽"), render_kw={"inputmode": "decimal", "maxlength": 12})
    on_payment = BooleanField(_l("A payment is received"))
    on_change = BooleanField(_l("The tariff or a service is changed"))
    on_new_device = BooleanField(_l("Someone signs in from a new device"))
    on_every_login = BooleanField(_l("Every sign-in"))
    on_outages = BooleanField(_l("Notify me about outages and works"))
    quiet_from = TimeField(_l("Quiet from"), validators=[Optional()])
    quiet_to = TimeField(_l("until"), validators=[Optional()])


class ForwardingForm(IdempotentForm):
    """One forwarding condition (each has its own form on the page, prefixed by the condition)."""

    enabled = BooleanField(_l("On"))
    target = PhoneField(_l("Forward to"), validators=[Length(max=40)],
                        render_kw={"autocomplete": "tel", "inputmode": "tel", "maxlength": 40,
                                   "placeholder": EXAMPLE_NUMBER})
    seconds = IntegerField(_l("After, seconds"), validators=[Optional(), NumberRange(5, 30, _l("From 5 to 30."))],
                           render_kw={"inputmode": "numeric", "min": 5, "max": 30, "step": 5})


class BlacklistAddForm(IdempotentForm):
    number = PhoneField(_l("Number"), validators=[InputRequired(_l("Enter the number to block."))],
                        render_kw={"autocomplete": "off", "inputmode": "tel", "maxlength": 40,
                                   "placeholder": EXAMPLE_NUMBER})
    connect = BooleanField(_l("Connect the blacklist service"))


class BlacklistRemoveForm(IdempotentForm):
    entries = SelectMultipleField(_l("Numbers"), coerce=db_int, validate_choice=False,
                                  validators=[InputRequired(_l("Tick the numbers to remove."))])
    disconnect = BooleanField(_l("If the list is empty then, disconnect the service (no more daily fee)"))


class VoicemailForm(IdempotentForm):
    enabled = BooleanField(_l("Voicemail is on"))
    conditions = CheckboxListField(_l("Calls go to voicemail"), choices=list(CONDITION_LABELS.items()))


class VoiceMessagesForm(IdempotentForm):
    messages = SelectMultipleField(_l("Messages"), coerce=db_int, validate_choice=False,
                                   validators=[InputRequired(_l("Tick the messages to delete."))])


class RingbackForm(IdempotentForm):
    melody = SelectField(_l("Melody"), coerce=db_int, validate_choice=False)
    who = RadioField(_l("Who hears it"), default="all", choices=[("all", _l("Every caller")),
                                                                 ("number", _l("Only callers from this number"))])
    caller = PhoneField(_l("Number"), validators=[Length(max=40)],
                        render_kw={"autocomplete": "off", "inputmode": "tel", "maxlength": 40,
                                   "placeholder": EXAMPLE_NUMBER})
    accept = BooleanField(_l("I agree to the daily fee"))

    def validate_caller(self, field):
        if self.who.data == "number" and not field.data:
            raise ValidationError(_l("Enter the number, or choose every caller."))


class RingbackRemoveForm(IdempotentForm):
    choices = SelectMultipleField(_l("Melodies"), coerce=db_int, validate_choice=False,
                                  validators=[InputRequired(_l("Tick what to remove."))])
