from flask import Blueprint

bp = Blueprint("auth", __name__, url_prefix="/auth")

from portal.auth import passkeys, social, views  # noqa: E402,F401
