"""Support requests (issue 17, point 1): a customer opens a request about the number or contract in focus, staff
answer it (or leave internal notes the customer never sees), the customer replies, closes and rates it.

``requests`` holds the rules, ``topics`` the topics and saved answers admins manage; this module the fixed words:
the states.
"""
from flask_babel import lazy_gettext as _l

# new → in_progress → waiting (for the customer) → closed
STATES = {
    "new": _l("new"),
    "in_progress": _l("in progress"),
    "waiting": _l("waiting for your answer"),
    "closed": _l("closed"),
}
STAFF_STATES = {**STATES, "waiting": _l("waiting for the customer")}
