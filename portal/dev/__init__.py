"""Development helpers, registered only in debug mode: where the "SMS" arrives."""
from flask import Blueprint
from sqlalchemy import select

from portal.extensions import db
from portal.models import SmsMessage
from portal.web import render

bp = Blueprint("dev", __name__, url_prefix="/dev")


@bp.get("/sms")
def sms():
    messages = db.session.scalars(select(SmsMessage).order_by(SmsMessage.id.desc()).limit(50)).all()
    return render("dev/sms.html", messages=messages)
