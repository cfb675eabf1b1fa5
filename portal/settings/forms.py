from flask_babel import lazy_gettext as _l
from wtforms import PasswordField
from wtforms.validators import EqualTo, InputRequired, Length

from portal.forms import PortalForm


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
