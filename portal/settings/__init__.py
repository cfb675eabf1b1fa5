from flask import Blueprint

bp = Blueprint("settings", __name__, url_prefix="/settings")

from portal.settings import codeword, feed, passkeys, views  # noqa: E402,F401,I001
