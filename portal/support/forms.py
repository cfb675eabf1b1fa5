from flask_babel import lazy_gettext as _l
from wtforms import RadioField, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from portal.domain.support import CATEGORIES
from portal.domain.support.requests import MAX_TEXT
from portal.forms import IdempotentForm, PortalForm


def strip(value):
    return value.strip() if isinstance(value, str) else value


def text_field(label):
    return TextAreaField(label, filters=[strip], validators=[DataRequired(_l("Type your message.")),
                                            Length(max=MAX_TEXT, message=_l("At most %(max)d characters."))],
                         render_kw={"rows": 5, "maxlength": MAX_TEXT})


class NewRequestForm(IdempotentForm):
    category = SelectField(_l("Topic"), choices=[], validators=[InputRequired(_l("Choose the topic."))])
    text = text_field(_l("Your question"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.category.choices = [("", _l("Choose…")), *CATEGORIES.items()]

    def validate_category(self, field):
        if field.data not in CATEGORIES:
            raise ValidationError(_l("Choose the topic."))


class ReplyForm(IdempotentForm):
    text = text_field(_l("Your message"))


class RateForm(PortalForm):
    rating = RadioField(_l("How did we do?"), choices=[(str(n), str(n)) for n in range(5, 0, -1)],
                        validators=[InputRequired(_l("Choose from 1 to 5."))])
    comment = TextAreaField(_l("Comment (optional)"), validators=[Optional(), Length(max=500)],
                            render_kw={"rows": 3, "maxlength": 500})
