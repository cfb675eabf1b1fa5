"""Support requests (issue 17, point 1): a customer opens a request about the number or contract in focus, staff
answer it (or leave internal notes the customer never sees), the customer replies, closes and rates it.

``requests`` holds the rules; this module the fixed words: categories and states.
"""
from flask_babel import lazy_gettext as _l

# A small fixed list for now (admins managing categories is issue 17, point 4, later).
CATEGORIES = {
    "money": _l("Money and payments"),
    "tariff": _l("Tariff and services"),
    "quality": _l("Connection quality"),
    "home": _l("Home internet and TV"),
    "other": _l("Other"),
}
# new → in_progress → waiting (for the customer) → closed
STATES = {
    "new": _l("new"),
    "in_progress": _l("in progress"),
    "waiting": _l("waiting for your answer"),
    "closed": _l("closed"),
}
STAFF_STATES = {**STATES, "waiting": _l("waiting for the customer")}
