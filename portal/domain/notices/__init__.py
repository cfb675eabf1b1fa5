"""Outage and planned-works notices (issue 17, point 2).

Staff publish a notice for all mobile lines, a region, a home connection type or a building
(``scope``); the customers it affects see it on their dashboard, everyone sees it on the public status
page, and those who asked get an SMS when it starts and when it is over (``sms``).

- ``publishing``: create, edit, post an update (and move the state), resolve; audited, one commit each.
- ``reading``: what a dashboard, the status page and the staff list show.
- ``scope``: which accounts a notice affects (the address rule is described there).
- ``sms``: the job's work, one SMS per notice phase and account.
"""
from portal.domain.notices.publishing import (
    ACTIVE,
    FINAL,
    KINDS,
    PENDING_KEY,
    STATES,
    NoticeRefused,
    NoticeValues,
    create_notice,
    edit_notice,
    get_notice,
    post_update,
    resolve_notice,
    sms_phase,
)
from portal.domain.notices.reading import notices_for, public_notice, staff_list, status_board
from portal.domain.notices.scope import SCOPES, affects, building_suggestions, normalise_address

__all__ = ["ACTIVE", "FINAL", "KINDS", "PENDING_KEY", "SCOPES", "STATES", "NoticeRefused", "NoticeValues", "affects",
           "building_suggestions", "create_notice", "edit_notice", "get_notice", "normalise_address", "notices_for",
           "post_update", "public_notice", "resolve_notice", "sms_phase", "staff_list", "status_board"]
