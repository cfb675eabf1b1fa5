from flask import Blueprint

bp = Blueprint("tariffs", __name__, url_prefix="/tariffs")

from portal.tariffs import views  # noqa: E402,F401
