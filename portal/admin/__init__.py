from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from portal.admin import catalog, contracts, home, labels, links, notices, provisioning, views  # noqa: E402,F401
