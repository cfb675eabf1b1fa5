from flask import Blueprint

bp = Blueprint("feed", __name__)

from portal.feed import views  # noqa: E402,F401
