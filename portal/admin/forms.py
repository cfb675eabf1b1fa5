from flask_babel import lazy_gettext as _l
from wtforms import EmailField, PasswordField, SearchField
from wtforms.validators import InputRequired, Length

from portal.forms import PortalForm


class StaffLoginForm(PortalForm):
    email = EmailField(_l("E-mail"), validators=[InputRequired(_l("Enter your e-mail.")), Length(max=120)],
                       render_kw={"autocomplete": "username", "maxlength": 120})
    password = PasswordField(_l("Password"), validators=[InputRequired(_l("Enter the password.")),
                                                         Length(max=128)],
                             render_kw={"autocomplete": "current-password", "maxlength": 128})


class CustomerSearchForm(PortalForm):
    class Meta:
        csrf = False  # a GET search changes nothing

    q = SearchField(_l("Number, contract or name"), validators=[Length(max=100)],
                    render_kw={"maxlength": 100, "autocomplete": "off"})
