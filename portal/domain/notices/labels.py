"""The words for a notice's kind, state and area (pages and SMS never show the codes)."""
from flask_babel import lazy_gettext as _l

KIND_LABELS = {"outage": _l("Outage"), "works": _l("Planned works")}
STATE_LABELS = {"investigating": _l("investigating"), "fixing": _l("fixing"), "resolved": _l("resolved"),
                "scheduled": _l("scheduled"), "in_progress": _l("in progress"), "done": _l("done")}
SCOPE_LABELS = {"mobile": _l("All mobile lines"), "region": _l("A region"),
                "connection": _l("Home internet of one connection type"), "address": _l("A building")}


def area(scope: str, value: str) -> str:
    """Whom a notice is for, in words: "All mobile lines", "Region: Moscow", "Home internet over GPON" …"""
    if scope == "mobile":
        return str(SCOPE_LABELS["mobile"])
    if scope == "region":
        return str(_l("Region: %(region)s", region=value))
    if scope == "connection":
        return str(_l("Home internet over %(type)s", type=value.upper()))
    return str(_l("Building: %(address)s", address=value))
