from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, StringField
from wtforms.validators import EqualTo, InputRequired, Length, Optional

from portal.forms import IdempotentForm, PortalForm

PIN_ATTRS = {"inputmode": "numeric", "maxlength": 4, "autocomplete": "off", "pattern": "[0-9]{4}"}


class ConfirmForm(IdempotentForm):
    """Connects or disconnects the service named by the URL; the key makes a double click harmless."""


class PinForm(PortalForm):
    old_pin = PasswordField(_l("Current PIN"), validators=[Optional(), Length(max=8)], render_kw=PIN_ATTRS)
    pin = PasswordField(_l("New PIN"), validators=[InputRequired(_l("Type 4 digits.")), Length(max=8)],
                        render_kw=PIN_ATTRS)
    confirm = PasswordField(_l("New PIN again"),
                            validators=[InputRequired(_l("Type the new PIN once more.")),
                                        EqualTo("pin", _l("The two PINs differ."))],
                            render_kw=PIN_ATTRS)


class PinResetForm(PortalForm):
    """Asks for a new PIN by SMS (no fields: the CSRF token only)."""


class MailboxForm(IdempotentForm):
    mailbox_name = StringField(_l("Mailbox name"),
                               validators=[InputRequired(_l("Choose a name for the mailbox.")), Length(max=60)],
                               render_kw={"autocomplete": "off", "maxlength": 30, "autocapitalize": "none",
                                          "spellcheck": "false"})
    mailbox_password = PasswordField(_l("Mailbox password"),
                                     validators=[InputRequired(_l("Choose a password.")), Length(max=128)],
                                     render_kw={"autocomplete": "new-password", "maxlength": 128})
    confirm = PasswordField(_l("Password again"),
                            validators=[InputRequired(_l("Type the password once more.")),
                                        EqualTo("mailbox_password", _l("The two passwords differ."))],
                            render_kw={"autocomplete": "new-password", "maxlength": 128})
