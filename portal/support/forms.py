from flask import current_app, g
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import RadioField, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from portal.domain.support import attachments, topics
from portal.domain.support.requests import MAX_TEXT
from portal.extensions import db
from portal.formatting import reader_locale
from portal.forms import IdempotentForm, PortalForm


def current_topics() -> list[topics.Topic]:
    """Every topic, read once per request: the form, the list and the names share them."""
    if "support_topics" not in g:
        g.support_topics = topics.all_topics(db.session)
    return g.support_topics


def topic_names() -> dict[str, str]:
    """code → the topic's name in the reader's language (retired topics too: old requests show theirs)."""
    language = reader_locale()
    return {t.code: t.name(language) for t in current_topics()}


def strip(value):
    return value.strip() if isinstance(value, str) else value


def text_field(label):
    return TextAreaField(label, filters=[strip], validators=[DataRequired(_l("Type your message.")),
                                            Length(max=MAX_TEXT, message=_l("At most %(max)d characters."))],
                         render_kw={"rows": 5, "maxlength": MAX_TEXT})


class PhotoForm(IdempotentForm):
    """A message with an optional photo or screenshot; once validated, ``picture`` holds it checked and
    re-encoded (portal.domain.support.attachments), or None."""

    photo = FileField(_l("Photo or screenshot (optional)"))
    picture: attachments.Picture | None = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # With JavaScript, a file over the limit is refused as it is chosen: not sent over a slow link first.
        max_bytes = current_app.config["SUPPORT_ATTACHMENT_MAX_BYTES"]
        self.photo.render_kw = {"accept": "image/jpeg,image/png", "data-max-bytes": max_bytes,
                                "data-too-large": attachments.too_large(max_bytes).message}

    def validate_photo(self, field):
        self.picture = None
        if not field.data:  # no file chosen: the browser sends an empty part
            return
        config = current_app.config
        try:
            data = attachments.read_upload(field.data.stream, config["SUPPORT_ATTACHMENT_MAX_BYTES"])
            self.picture = attachments.process(data, name=field.data.filename,
                                               max_bytes=config["SUPPORT_ATTACHMENT_MAX_BYTES"],
                                               max_pixels=config["SUPPORT_ATTACHMENT_MAX_PIXELS"])
        except attachments.InvalidPicture as err:
            raise ValidationError(str(err.message)) from None

    def photo_hint(self):
        """Under the field: the limits, or that a browser never keeps a chosen file when the form comes back."""
        if self.photo.data and not self.photo.errors and self.errors:
            return _l("Choose the photo again: the page came back without it.")
        return _l("JPEG or PNG, up to %(mb)s MB.",
                  mb=attachments.megabytes(current_app.config["SUPPORT_ATTACHMENT_MAX_BYTES"]))


class NewRequestForm(PhotoForm):
    category = SelectField(_l("Topic"), choices=[], validators=[InputRequired(_l("Choose the topic."))])
    text = text_field(_l("Your question"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        language = reader_locale()
        self.category.choices = [("", _l("Choose…")),
                                 *((t.code, t.name(language)) for t in current_topics() if t.active)]

    def validate_category(self, field):
        if field.data not in {code for code, _name in self.category.choices[1:]}:
            raise ValidationError(_l("Choose the topic."))


class ReplyForm(PhotoForm):
    text = text_field(_l("Your message"))


class RateForm(PortalForm):
    rating = RadioField(_l("How did we do?"), choices=[(str(n), str(n)) for n in range(5, 0, -1)],
                        validators=[InputRequired(_l("Choose from 1 to 5."))])
    comment = TextAreaField(_l("Comment (optional)"), validators=[Optional(), Length(max=500)],
                            render_kw={"rows": 3, "maxlength": 500})
