"""The pictures customers attach to support requests, for staff (any request's; staff see every thread)."""
from flask import abort

from portal.admin import bp
from portal.domain.errors import NotFound
from portal.domain.support import requests as support
from portal.extensions import db
from portal.support.views import send_picture
from portal.web import staff_required


@bp.get("/support/pictures/<int:attachment_id>")
@bp.get("/support/pictures/<int:attachment_id>/preview", endpoint="support_picture_preview",
        defaults={"thumb": True})
@staff_required
def support_picture(attachment_id: int, thumb: bool = False):
    try:
        attachment = support.staff_attachment(db.session, attachment_id)
    except NotFound:
        abort(404)
    return send_picture(attachment, thumb=thumb)
