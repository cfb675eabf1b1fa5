"""The transactions archive: every action of a login and on its accounts, newest first."""
import io
from collections import OrderedDict

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from portal.domain.csv_export import csv_writer
from portal.domain.history import Period
from portal.models import AuditEvent, LoginAccount

# What the customer sees, grouped for the filter. Staff-only actions are not listed here and not shown.
GROUPS = OrderedDict([
    ("access", (_l("Sign-in and security"), {
        "login": _l("Signed in"), "login_failed": _l("Failed sign-in"), "logout": _l("Signed out"),
        "password_changed": _l("Password changed"), "sms_password_requested": _l("Password requested by SMS"),
        "session_ended": _l("A device signed out"), "sessions_ended": _l("Signed out on other devices"),
        "preferences_changed": _l("Language or time zone changed"), "alerts_changed": _l("SMS alerts changed"),
        "internet_settings_sent": _l("Internet settings sent by SMS"),
        "close_code_sent": _l("Code to switch the personal account off sent"),
        "personal_account_closed": _l("Personal account switched off"),
        "personal_account_reopened": _l("Personal account switched on again"),
        "ways_in_shut": _l("Support removed every passkey, linked account and feed key and signed out every device")})),
    ("tariffs", (_l("Tariffs and services"), {
        "tariff_changed": _l("Tariff changed"), "service_connected": _l("Service connected"),
        "tariff_change_scheduled": _l("Tariff change scheduled for the next period"),
        "tariff_change_cancelled": _l("Scheduled tariff change cancelled"),
        "service_disconnected": _l("Service disconnected"), "reward_redeemed": _l("Points spent on a reward"),
        "points_sent": _l("Points given")})),
    ("payments", (_l("Payments"), {
        "card_payment_started": _l("Card payment started"), "card_topup": _l("Topped up by card"),
        "card_payment_declined": _l("Card payment declined"),
        "card_3ds_wrong_code": _l("Wrong code on the bank's confirmation page"),
        "transfer_code_sent": _l("Transfer code sent"),
        "transfer_sent": _l("Transfer sent"), "transfer_cancelled": _l("Transfer cancelled"),
        "voucher_redeemed": _l("Prepaid card used"), "voucher_failed": _l("Wrong prepaid card"),
        "promised_payment_taken": _l("Promised payment taken"),
        "promised_payment_overdue": _l("Promised payment overdue"), "balance_adjusted": _l("Balance corrected"),
        "autopay_created": _l("Auto-payment set up"), "autopay_enabled": _l("Auto-payment turned on"),
        "autopay_disabled": _l("Auto-payment turned off"), "autopay_deleted": _l("Auto-payment deleted")})),
    ("numbers", (_l("My numbers"), {
        "link_requested": _l("Request to add numbers"), "link_withdrawn": _l("Request to add numbers withdrawn"),
        "link_approved": _l("Numbers added"), "link_rejected": _l("Request to add numbers not approved"),
        "number_unlinked": _l("Number removed from the list"),
        "home_link_code_sent": _l("Code to add a home contract sent"),
        "home_contract_linked": _l("Home contract added"), "home_contract_opened": _l("Home contract opened")})),
    ("status", (_l("Line status"), {
        "account_suspended": _l("Suspended"), "account_restored": _l("Restored"),
        "account_terminated": _l("Contract ended"), "contract_paused": _l("Contract paused at your request"),
        "number_blocked_lost": _l("Number blocked: lost or stolen"),
        "number_blocked_voluntary": _l("Number blocked at your request"), "number_unblocked": _l("Number unblocked"),
        "home_paused": _l("Home contract paused"), "home_pause_scheduled": _l("Holiday pause scheduled"),
        "home_resumed": _l("Home contract resumed after a pause"),
        "home_pause_cancelled": _l("Holiday pause cancelled")})),
    ("line", (_l("Line settings"), {
        "forwarding_changed": _l("Call forwarding changed"),
        "blacklist_added": _l("Added to the blacklist"), "blacklist_removed": _l("Removed from the blacklist"),
        "voicemail_changed": _l("Voicemail changed"), "voice_messages_deleted": _l("Voice messages deleted"),
        "voicemail_pin_reset": _l("New voicemail PIN sent"),
        "ringback_set": _l("Ringback melody set"), "ringback_removed": _l("Ringback melody removed"),
        "switch_retry": _l("A setting sent to the network again"),
        "sim_lock_on": _l("SIM-swap and port-out lock switched on"),
        "sim_lock_release_requested": _l("SIM-swap and port-out lock: switching off requested"),
        "sim_lock_release_cancelled": _l("SIM-swap and port-out lock kept on"),
        "sim_reissued": _l("SIM card replaced"), "port_out_started": _l("Number port-out started"),
        "port_out_done": _l("Number ported out"), "port_out_cancelled": _l("Number port-out cancelled")})),
    ("home", (_l("Home internet and TV"), {
        "parental_pin_set": _l("Parental PIN set"), "parental_pin_changed": _l("Parental PIN changed"),
        "parental_pin_reset": _l("New parental PIN sent by SMS")})),
    ("messages", (_l("Messages"), {"web_sms_sent": _l("SMS sent from the site"),
                                   "details_ordered": _l("Call details ordered by e-mail"),
                                   "support_opened": _l("Support request opened"),
                                   "support_customer_replied": _l("Reply to support"),
                                   "support_closed": _l("Support request closed"),
                                   "support_rated": _l("Support answer rated")})),
])
LABELS = {action: label for _, (_, actions) in GROUPS.items() for action, label in actions.items()}
PAGE_SIZE = 30


def _conditions(session: Session, login_id: int, period: Period, group: str | None):
    account_ids = select(LoginAccount.account_id).where(LoginAccount.login_id == login_id)
    start, end = period.bounds
    actions = list(GROUPS[group][1]) if group in GROUPS else list(LABELS)
    return [or_(AuditEvent.login_id == login_id, AuditEvent.account_id.in_(account_ids)),
            AuditEvent.action.in_(actions), AuditEvent.created_at >= start, AuditEvent.created_at < end]


def events_page(session: Session, login_id: int, period: Period, group: str | None, *, before_id: int | None = None,
                size: int = PAGE_SIZE) -> tuple[list[AuditEvent], int | None]:
    stmt = select(AuditEvent).where(*_conditions(session, login_id, period, group))
    if before_id:
        stmt = stmt.where(AuditEvent.id < before_id)
    rows = list(session.scalars(stmt.order_by(AuditEvent.id.desc()).limit(size + 1)))
    return rows[:size], (rows[size - 1].id if len(rows) > size else None)


def csv_lines(session: Session, login_id: int, period: Period, group: str | None):
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow([str(_l("Time (UTC)")), str(_l("Action")), str(_l("IP address"))])
    yield out.getvalue()
    stmt = (select(AuditEvent.created_at, AuditEvent.action, AuditEvent.ip)
            .where(*_conditions(session, login_id, period, group)).order_by(AuditEvent.id.desc())
            .execution_options(yield_per=500))
    for created_at, action, ip in session.execute(stmt):
        out.seek(0)
        out.truncate()
        writer.writerow([created_at.isoformat(sep=" ", timespec="seconds"), str(LABELS.get(action, action)), ip or ""])
        yield out.getvalue()
