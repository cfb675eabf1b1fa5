from flask_babel import lazy_gettext as _l
from wtforms import SelectField

from portal.forms import IdempotentForm, PortalForm


class SwitchTariffForm(IdempotentForm):
    """Confirms a switch: the tariff comes from the URL, the key makes a double click harmless."""


class ServiceForm(IdempotentForm):
    """Confirms connecting or disconnecting a service named by the URL."""


class CancelChangeForm(PortalForm):
    """Cancels the scheduled tariff change named by the URL."""


class CompareForm(PortalForm):
    """Which two tariffs to set side by side (a GET form: it changes nothing)."""

    class Meta:
        csrf = False

    a = SelectField(_l("Tariff"), coerce=int, validate_choice=True)
    b = SelectField(_l("and"), coerce=int, validate_choice=True)
