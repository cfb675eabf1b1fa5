"""Home internet and TV: TV packages with their channels and the parental PIN (views), extras (extras).

Under /home; the link of a home contract to a login lives in /numbers/home (numbers blueprint).
"""
from flask import Blueprint

bp = Blueprint("home", __name__, url_prefix="/home")

from portal.home import extras, views  # noqa: E402,F401
