from flask import Blueprint

bp = Blueprint("gateway", __name__, url_prefix="/gateway")

from portal.gateway import views  # noqa: E402,F401
