from flask_babel import lazy_gettext as _l
from wtforms import DateField, HiddenField, IntegerField, StringField
from wtforms.validators import InputRequired, Length

from portal.domain.home_pause import MAX_DAYS, MIN_DAYS
from portal.forms import IdempotentForm, PortalForm


class PauseForm(IdempotentForm):
    """The holiday pause: its first day and its length; the dates are checked by the domain (check_dates)."""

    start_on = DateField(_l("First day of the pause"), validators=[InputRequired(_l("Choose the first day."))],
                         render_kw={"max": "9999-12-31"})
    days = IntegerField(_l("Days"), validators=[InputRequired(_l("How many days?"))],
                        render_kw={"min": MIN_DAYS, "max": MAX_DAYS, "inputmode": "numeric"})
    # Empty: show what the pause costs and when it ends; "1": the customer saw it and confirms.
    confirm = HiddenField()


class EndPauseForm(PortalForm):
    """Resume early or cancel a pause not yet started: the pause comes from the URL."""


class DocumentCodeForm(PortalForm):
    """Send a code to accept this version of a document (the version read is in the form)."""

    document_id = HiddenField()


class AcceptDocumentForm(PortalForm):
    document_id = HiddenField()
    code = StringField(_l("Code from the SMS"), validators=[InputRequired(_l("Type the code from the SMS.")),
                                                            Length(max=12)],
                       render_kw={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": 12})
