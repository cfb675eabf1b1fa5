from flask import Blueprint

bp = Blueprint("locator", __name__, url_prefix="/locator")

from portal.locator import views  # noqa: E402,F401
