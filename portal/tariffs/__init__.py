from flask import Blueprint

bp = Blueprint("tariffs", __name__)  # /tariffs and /services: "Tariffs and services"

from portal.tariffs import views  # noqa: E402,F401
