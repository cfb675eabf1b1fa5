"""Form pieces shared by the blueprints."""
import secrets
from datetime import timedelta
from functools import lru_cache

from babel.support import Translations
from flask import current_app, request
from flask_babel import lazy_gettext as _l
from flask_babel import to_user_timezone
from flask_wtf import FlaskForm
from flask_wtf.form import _Auto
from wtforms import DateField, HiddenField, SelectField, SelectMultipleField, StringField
from wtforms.i18n import messages_path
from wtforms.validators import InputRequired, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from portal.domain import history
from portal.domain.catalog import InvalidAmount, format_roubles, parse_roubles
from portal.domain.errors import DomainError
from portal.domain.idempotency import KEY_FORMAT
from portal.domain.phones import EXAMPLE_NUMBER, InvalidPhone, parse_msisdn
from portal.formatting import reader_locale
from portal.models import utcnow
from portal.web import retry_message, select_timezone


@lru_cache(maxsize=8)
def _wtforms_messages(locale: str):
    return Translations.load(messages_path(), [locale], domain="wtforms")


class PortalForm(FlaskForm):
    refused_status: int | None = None

    class Meta(FlaskForm.Meta):
        def get_translations(self, form):
            """WTForms' own messages ("Not a valid date value") in the reader's language, from its catalog read
            once per process and language: Flask-WTF reads and parses it again on every request (≈ 0.3 ms)."""
            if not current_app.config.get("WTF_I18N_ENABLED", True):
                return super().get_translations(form)
            return _wtforms_messages(reader_locale())

    def add_domain_error(self, err: DomainError) -> None:
        """Put a domain refusal next to its field, or above the form."""
        message = retry_message(err) if getattr(err, "retry_after", None) else err.message
        field = getattr(self, err.field, None) if err.field else None
        if field is not None:
            field.errors = [*field.errors, message]
        else:
            self.form_errors.append(message)
        self.refused_status = err.status

    @property
    def status(self) -> int:
        """200 for a fresh or valid form, 422 for invalid input, or the refusal's own (429 for quotas)."""
        if not self.errors:
            return 200
        return self.refused_status or 422


class PhoneField(StringField):
    """A phone typed any usual way; ``.msisdn`` holds the E.164 form once validated."""

    msisdn: str | None = None

    def pre_validate(self, form):
        self.msisdn = None
        if not self.data:
            return
        try:
            self.msisdn = parse_msisdn(self.data, current_app.config["PHONE_DEFAULT_REGION"])
        except InvalidPhone as err:
            raise ValidationError(str(err.message)) from None


class SignInIdField(StringField):
    """A phone number or a home contract number; ``.identifier`` holds the normalised form once validated."""

    identifier: str | None = None

    def pre_validate(self, form):
        from portal.domain.auth import parse_identifier

        self.identifier = None
        if not self.data:
            return
        try:
            self.identifier = parse_identifier(self.data, current_app.config["PHONE_DEFAULT_REGION"])
        except InvalidPhone as err:
            raise ValidationError(str(err.message)) from None


def sign_in_id_field(autocomplete: str = "username"):
    return SignInIdField(_l("Phone or contract number"),
                         validators=[InputRequired(_l("Enter your phone number or contract number."))],
                         render_kw={"autocomplete": autocomplete, "maxlength": 40,
                                    "placeholder": EXAMPLE_NUMBER})


def phone_field(label=None):
    return PhoneField(label or _l("Phone number"),
                      validators=[InputRequired(_l("Enter your phone number."))],
                      render_kw={"autocomplete": "tel", "inputmode": "tel", "maxlength": 40,
                                 "placeholder": EXAMPLE_NUMBER})


class IdempotentForm(PortalForm):
    """A form that carries a fresh idempotency key; a resubmission brings the same key back."""

    idempotency_key = HiddenField()

    def __init__(self, formdata=_Auto, **kwargs):
        super().__init__(formdata=formdata, **kwargs)
        # A blank form (formdata=None) shown again beside a refused POST is a new form: it needs its own key.
        if formdata is None or not self.is_submitted():
            self.idempotency_key.data = secrets.token_urlsafe(24)

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.is_submitted() and not KEY_FORMAT.match(self.idempotency_key.data or ""):
            # Only a tampered or truncated page sends this; the domain would refuse it anyway.
            self.form_errors.append(_l("The form has expired. Reload the page and try again."))
            self.idempotency_key.data = secrets.token_urlsafe(24)
            return False
        return valid


class CheckboxListField(SelectMultipleField):
    """Check boxes for a multiple choice; a stored comma list ("busy,no_answer") fills them too."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def process_data(self, value):
        super().process_data(value.split(",") if isinstance(value, str) else value)


class MoneyField(StringField):
    """Roubles as staff type them ("550", "550.00", "550,5"); ``.data`` is kopecks (int) once parsed."""

    def process_data(self, value):
        self.data = value  # from an object or a default: already kopecks

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        try:
            self.data = parse_roubles(valuelist[0])
        except InvalidAmount as err:
            self.data = None
            raise ValueError(str(err.message)) from None

    def _value(self):
        if self.raw_data:
            return self.raw_data[0][:40]  # what was typed, shown back next to the error
        return format_roubles(self.data) if isinstance(self.data, int) else ""


class PeriodForm(PortalForm):
    """A report's filter (payments, archive): a GET form, so it needs no CSRF token and its URL can be bookmarked."""

    class Meta:
        csrf = False

    start = DateField(_l("From"), validators=[Optional()], render_kw={"max": "9999-12-31"})
    end = DateField(_l("To"), validators=[Optional()], render_kw={"max": "9999-12-31"})
    kind = SelectField(_l("What"), choices=[], validate_choice=True, default="")

    def __init__(self, *args, kinds=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = [("", _l("Everything"))] + list(kinds)


def period_filter(kinds):
    """A report's period (default: the last 30 days) and kind from the query string; bad ones keep their error.

    Returns the form, the Period (in the customer's time zone), the chosen kinds and today's date.
    """
    today = to_user_timezone(utcnow()).date()
    form = PeriodForm(request.args, kinds=kinds)
    form.start.data = form.start.data or today - timedelta(days=30)
    form.end.data = form.end.data or today
    tz = select_timezone()
    period = history.Period(today - timedelta(days=30), today, tz)
    if form.validate():
        try:
            period = history.check_period(form.start.data, form.end.data, today=today, tz=tz)
        except DomainError as err:
            form.add_domain_error(err)
    return form, period, [form.kind.data] if form.kind.data and not form.errors else [], today
