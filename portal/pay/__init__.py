from flask import Blueprint

bp = Blueprint("pay", __name__, url_prefix="/p")

from portal.pay import views  # noqa: E402,F401
