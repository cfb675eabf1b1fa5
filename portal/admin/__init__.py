from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from portal.admin import (  # noqa: E402,F401
    catalog,
    contracts,
    documents,
    home,
    labels,
    links,
    notices,
    passkeys,
    provisioning,
    sim,
    support,
    support_pictures,
    topics,
    views,
    ways_in,
)
