from flask import Blueprint

bp = Blueprint("status", __name__, url_prefix="/status")

from portal.status import views  # noqa: E402,F401
