"""The numbers a login manages: the list and switcher, link requests, call details, blocking, web SMS.

One module per feature so each stays small: views (list, switch, link requests),
details (call details), blocking (lost/voluntary block), simlock (the SIM-swap and port-out lock),
websms (SMS from the web).
"""
from flask import Blueprint

bp = Blueprint("numbers", __name__, url_prefix="/numbers")

from portal.numbers import blocking, details, simlock, traffic, views, websms  # noqa: E402,F401
