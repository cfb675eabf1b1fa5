from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import InputRequired, Length

from portal.forms import PortalForm, sign_in_id_field


class LoginForm(PortalForm):
    phone = sign_in_id_field(autocomplete="username webauthn")  # the browser offers passkeys in its autofill
    password = PasswordField(_l("Password"), validators=[InputRequired(_l("Enter the password.")),
                                                         Length(max=128)],
                             render_kw={"autocomplete": "current-password", "maxlength": 128})


class SmsPasswordForm(PortalForm):
    phone = sign_in_id_field()
    captcha_token = HiddenField()
    captcha = StringField(_l("Characters from the picture"),
                          validators=[InputRequired(_l("Type the characters you see in the picture.")),
                                      Length(max=16)],
                          render_kw={"autocomplete": "off", "autocapitalize": "characters", "maxlength": 16,
                                     "spellcheck": "false"})


class NetworkLoginForm(PortalForm):
    """Only the CSRF token: the number comes from the operator's gateway header."""


class LanguageForm(PortalForm):
    lang = HiddenField()
