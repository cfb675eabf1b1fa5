"""The provisioning log: every command sent to the network's switch, with what it answered."""
from flask import request
from flask_babel import lazy_gettext as _l
from wtforms import SelectField

from portal.admin import bp
from portal.domain import provisioning
from portal.domain.bounds import db_int
from portal.extensions import db
from portal.forms import PhoneField, PortalForm
from portal.web import render, staff_required


class LogFilter(PortalForm):
    class Meta:
        csrf = False

    status = SelectField(_l("State"), default="", choices=[("", _l("Any"))] + [
        (state, label) for state, label in provisioning.STATE_LABELS.items()])
    number = PhoneField(_l("Number"), render_kw={"inputmode": "tel", "maxlength": 40})


@bp.get("/provisioning")
@staff_required
def provisioning_log():
    form = LogFilter(request.args)
    valid = form.validate()
    commands = provisioning.log_page(db.session, status=form.status.data or None, msisdn=form.number.msisdn,
                                     before_id=request.args.get("before", type=db_int)) if valid else []
    return render("admin/provisioning.html", status=200 if valid else 422, form=form, commands=commands,
                  page_size=100)
