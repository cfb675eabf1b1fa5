"""The SIM-swap and port-out lock (issue 18, point 3): a line's owner switches it on; while it is on, a SIM
reissue or a port-out started by staff waits until a SECOND staff member has checked the caller's identity and
approved it. Switching it off takes effect a delay later (24 h by default) and is told by SMS to every number of
the login, so a thief who has the password still cannot take the number at once.

The release is not a job: the lock is read as on until ``release_at`` has passed (``lock_state``), so there is no
moment when a missed run leaves it on or a late one switches it off early.
"""
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import formatting
from portal.domain import contracts, provisioning
from portal.domain.accounts import accounts_of_login, lock_accounts
from portal.domain.alerts import owner_language
from portal.domain.audit import Actor, record
from portal.domain.errors import DomainError, NotFound
from portal.domain.idempotency import commit_once, lock_line_for
from portal.domain.phones import format_msisdn, mask_msisdn
from portal.domain.sms import queue_sms
from portal.models import Account, AccountStatus, Customer, GuardedAction, Line, Login, PortOut, SimLock, Staff

SIM_REISSUE, PORT_OUT = "sim_reissue", "port_out"
AWAITING_CHECK, DONE, CANCELLED = "awaiting_check", "done", "cancelled"
STARTED = "started"
# The documents staff may check a caller against; only the type and the last four characters are kept.
DOCUMENT_TYPES = {
    "passport": _l("Russian passport"),
    "foreign_passport": _l("Foreign passport"),
    "residence_permit": _l("Residence permit"),
    "other_id": _l("Other identity document"),
}
SWITCH_SUBJECT = "sim"  # the provisioning log's subject of SIM changes
LAST4 = re.compile(r"^[0-9A-Z]{4}$")
MAX_RECIPIENT = 80
# ICCID (ITU-T E.118): "89" (telecoms), up to 19 digits and a Luhn check digit.
ICCID = re.compile(r"^89[0-9]{17,18}$")


class SimLockRefused(DomainError):
    pass


class ActionRefused(DomainError):
    pass


class SameStaff(DomainError):
    """The staff member who started an action cannot be its second check."""

    status = 403


@dataclass(frozen=True)
class Wording:
    """How the SMS are written: the operator's brand, default language and time zone."""

    brand: str
    sms_locale: str
    timezone: str
    support_phone: str

    @classmethod
    def from_config(cls, config) -> "Wording":
        return cls(brand=config["BRAND"], sms_locale=config["BABEL_DEFAULT_LOCALE"],
                   timezone=config["BABEL_DEFAULT_TIMEZONE"], support_phone=config["SUPPORT_PHONE"])


@dataclass(frozen=True)
class LockState:
    on: bool
    since: datetime | None = None
    release_at: datetime | None = None  # while on: when the requested release takes effect

    @property
    def release_pending(self) -> bool:
        return self.release_at is not None


OFF = LockState(on=False)


def _state_of(row: SimLock | None, now: datetime) -> LockState:
    if row is None or (row.release_at is not None and row.release_at <= now):
        return OFF
    return LockState(on=True, since=row.since, release_at=row.release_at)


def lock_state(session: Session, account_id: int, *, now: datetime) -> LockState:
    """The lock as it stands at ``now``: on until a requested release's moment has passed."""
    return _state_of(session.get(SimLock, account_id), now)


# ---- the customer's switch ---------------------------------------------------------------------------

def turn_on(session: Session, *, account_id: int, idempotency_key: str, actor: Actor, now: datetime) -> bool:
    """Switch the lock on at once (a waiting release is dropped); False when it was on already or this
    submission was carried out before."""
    account = lock_line_for(session, account_id=account_id, idempotency_key=idempotency_key, action="sim_lock_on")
    if account is None:
        return False
    if account.status == AccountStatus.terminated.value:
        session.rollback()
        raise SimLockRefused(_l("The contract for this number is terminated."))
    row = session.get(SimLock, account_id, populate_existing=True)
    state = _state_of(row, now)
    if state.on and not state.release_pending:
        commit_once(session)  # the key is spent; the lock stands as it was
        return False
    if row is None:
        session.add(SimLock(account_id=account_id, since=now))
    elif not state.on:  # a release that has taken effect: the lock starts again
        row.since, row.release_requested_at, row.release_at = now, None, None
    else:
        row.release_requested_at = row.release_at = None
    record(session, actor, "sim_lock_on", obj=account, account_id=account_id, detail=mask_msisdn(account.line.msisdn))
    return commit_once(session)


def request_release(session: Session, *, account_id: int, login_id: int, idempotency_key: str, delay: timedelta,
                    actor: Actor, now: datetime, wording: Wording) -> datetime | None:
    """Ask to switch the lock off: it stays on for ``delay``, and every number of the login is told by SMS.

    Returns when it switches off (None when this submission was carried out before)."""
    account = lock_line_for(session, account_id=account_id, idempotency_key=idempotency_key,
                            action="sim_lock_release")
    if account is None:
        return None
    row = session.get(SimLock, account_id, populate_existing=True)
    state = _state_of(row, now)
    if not state.on:
        session.rollback()
        raise SimLockRefused(_l("The lock is already off."))
    if state.release_pending:
        commit_once(session)
        return state.release_at
    row.release_requested_at, row.release_at = now, now + delay
    record(session, actor, "sim_lock_release_requested", obj=account, account_id=account_id,
           detail=f"{mask_msisdn(account.line.msisdn)} off at {row.release_at:%Y-%m-%d %H:%M} UTC")
    _tell_every_number(session, login_id=login_id, account=account, release_at=row.release_at, wording=wording)
    release_at = row.release_at
    commit_once(session)
    return release_at


def _tell_every_number(session: Session, *, login_id: int, account: Account, release_at: datetime,
                       wording: Wording) -> None:
    """The release in an SMS to each number the login manages (a home contract's: its contact phone), once each:
    whoever has the password may not have the phones."""
    login = session.get(Login, login_id)
    locale = (login.language if login else None) or owner_language(session, account.id, wording.sms_locale)
    zone = (login.timezone if login else None) or wording.timezone
    with force_locale(locale):
        text = gettext("%(brand)s: the SIM-swap and port-out lock of %(number)s switches off at %(time)s. If it was "
                       "not you, cancel it in your personal account or call %(support)s.", brand=wording.brand,
                       support=wording.support_phone,
                       number=format_msisdn(account.line.msisdn),
                       time=formatting.datetime_short(release_at, locale, zone))
    for to in _numbers_of_login(session, login_id):
        queue_sms(session, to=to, text=text, purpose="notice")


def _numbers_of_login(session: Session, login_id: int) -> list[str]:
    """Each number the login manages (a home contract's: its contact phone), once, the closed ones left out."""
    recipients = []
    for other in accounts_of_login(session, login_id):
        if other.status == AccountStatus.terminated.value:
            continue
        to = other.line.msisdn if other.line else (other.home_contract.contact_phone if other.home_contract else None)
        if to and to not in recipients:
            recipients.append(to)
    return recipients


def cancel_release(session: Session, *, account_id: int, actor: Actor, now: datetime) -> bool:
    """Keep the lock on after all; False when no release was waiting (or it has taken effect already)."""
    account = lock_accounts(session, account_id).get(account_id)
    if account is None or account.line is None:
        session.rollback()
        raise NotFound("line")
    row = session.get(SimLock, account_id, populate_existing=True)
    if not _state_of(row, now).release_pending:
        session.rollback()
        return False
    row.release_requested_at = row.release_at = None
    record(session, actor, "sim_lock_release_cancelled", obj=account, account_id=account_id,
           detail=mask_msisdn(account.line.msisdn))
    session.commit()
    return True


# ---- staff actions -----------------------------------------------------------------------------------

def luhn_ok(digits: str) -> bool:
    """The Luhn check digit (the last one) is right."""
    total = 0
    for position, ch in enumerate(reversed(digits)):
        value = int(ch) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def parse_iccid(text: str) -> str:
    """A SIM's ICCID as printed on the card (spaces and dashes allowed), checked by its Luhn digit."""
    digits = re.sub(r"[\s-]", "", text or "")
    if not ICCID.match(digits):
        raise ActionRefused(_l("An ICCID has 19 or 20 digits and starts with 89."), field="iccid")
    if not luhn_ok(digits):
        raise ActionRefused(_l("This ICCID has a typo: its check digit does not match."), field="iccid")
    return digits


def _check_port_out(recipient: str, requested_on: date | None, today: date) -> dict:
    recipient = " ".join((recipient or "").split())
    if not 2 <= len(recipient) <= MAX_RECIPIENT:
        raise ActionRefused(_l("Name the operator the number goes to."), field="recipient")
    if requested_on is None or requested_on > today or requested_on < today - timedelta(days=60):
        raise ActionRefused(_l("Give the date of the request, within the last 60 days."), field="requested_on")
    return {"recipient": recipient, "requested_on": requested_on.isoformat()}


def start_sim_reissue(session: Session, *, account_id: int, iccid: str, idempotency_key: str, actor: Actor,
                      now: datetime, wording: Wording) -> GuardedAction | None:
    """A replacement SIM for the line: at once, or waiting for a second staff check while the lock is on."""
    iccid = parse_iccid(iccid)
    if _sim_of_another_line(session, iccid, account_id):
        session.rollback()
        raise ActionRefused(SIM_OF_ANOTHER_LINE, field="iccid")
    return _start(session, account_id=account_id, kind=SIM_REISSUE, params={"iccid": iccid},
                  idempotency_key=idempotency_key, actor=actor, now=now, wording=wording)


def start_port_out(session: Session, *, account_id: int, recipient: str, requested_on: date | None, today: date,
                   idempotency_key: str, actor: Actor, now: datetime, wording: Wording) -> GuardedAction | None:
    """The number's move to another operator: started at once, or after a second staff check under the lock."""
    return _start(session, account_id=account_id, kind=PORT_OUT,
                  params=_check_port_out(recipient, requested_on, today), idempotency_key=idempotency_key,
                  actor=actor, now=now, wording=wording)


def _start(session: Session, *, account_id: int, kind: str, params: dict, idempotency_key: str, actor: Actor,
           now: datetime, wording: Wording) -> GuardedAction | None:
    account = lock_line_for(session, account_id=account_id, idempotency_key=idempotency_key, action=kind)
    if account is None:
        return None
    refusal = _refusal(session, account, kind, params)
    if refusal:
        session.rollback()
        raise ActionRefused(refusal)
    locked = lock_state(session, account_id, now=now).on
    action = GuardedAction(account_id=account_id, kind=kind, params=json.dumps(params, sort_keys=True),
                           state=AWAITING_CHECK if locked else DONE, requested_by=actor.staff_id, requested_at=now)
    session.add(action)
    session.flush()
    record(session, actor, f"{kind}_requested", obj=action, account_id=account_id,
           detail=f"{mask_msisdn(account.line.msisdn)}, " + ("waits for a second staff check" if locked else
                                                            "no lock: carried out at once"))
    if not locked:
        _carry_out(session, action, account, actor=actor, now=now, wording=wording)
    return action if commit_once(session) else None


def _refusal(session: Session, account: Account, kind: str, params: dict):
    if account.status == AccountStatus.terminated.value:
        return _l("The contract for this number is terminated.")
    if session.scalar(select(GuardedAction.id).where(GuardedAction.account_id == account.id,
                                                     GuardedAction.kind == kind,
                                                     GuardedAction.state == AWAITING_CHECK)):
        return _l("The same action already waits for a second check: approve or cancel that one.")
    if kind == SIM_REISSUE and params["iccid"] == account.line.iccid:
        return _l("This SIM card is the line's already.")
    if kind == PORT_OUT and open_port_out(session, account.id):
        return _l("The number is already being ported out.")
    return None


SIM_OF_ANOTHER_LINE = _l("This SIM card belongs to another number: check the ICCID on the card.")


def _sim_of_another_line(session: Session, iccid: str, account_id: int) -> bool:
    """The card is another live line's: the switch would put two numbers on one SIM."""
    return session.scalar(select(Line.account_id).join(Account, Account.id == Line.account_id).where(
        Line.iccid == iccid, Line.account_id != account_id,
        Account.status != AccountStatus.terminated.value).limit(1)) is not None


def account_of_action(session: Session, action_id: int) -> int | None:
    return session.scalar(select(GuardedAction.account_id).where(GuardedAction.id == action_id))


def account_of_port_out(session: Session, port_out_id: int) -> int | None:
    return session.scalar(select(PortOut.account_id).where(PortOut.id == port_out_id))


def open_port_out(session: Session, account_id: int) -> PortOut | None:
    return session.scalar(select(PortOut).where(PortOut.account_id == account_id, PortOut.state == STARTED))


def approve(session: Session, *, action_id: int, document_type: str, document_last4: str, actor: Actor,
            now: datetime, wording: Wording) -> GuardedAction:
    """The second staff member's identity check, recorded, and the waiting action carried out.

    The one who started it cannot approve it. An action no longer waiting is returned as it stands (a second
    click, or a colleague was quicker)."""
    if document_type not in DOCUMENT_TYPES:
        raise ActionRefused(_l("Choose the document checked."), field="document_type")
    last4 = (document_last4 or "").strip().upper()
    if not LAST4.match(last4):
        raise ActionRefused(_l("The last 4 characters of the document's number."), field="document_last4")
    action, account = _lock_action(session, action_id)
    if action.state != AWAITING_CHECK:
        session.rollback()
        return action
    if action.requested_by == actor.staff_id:
        session.rollback()
        raise SameStaff(_l("You started this action: another staff member must check the caller and approve it."))
    if account.status == AccountStatus.terminated.value:  # ended while the action waited (e.g. a port-out)
        session.rollback()
        raise ActionRefused(_l("The contract for this number is terminated."))
    if action.kind == SIM_REISSUE and _sim_of_another_line(session, action.details["iccid"], account.id):
        session.rollback()
        raise ActionRefused(SIM_OF_ANOTHER_LINE)
    action.approved_by, action.document_type, action.document_last4 = actor.staff_id, document_type, last4
    record(session, actor, "identity_checked", obj=action, account_id=account.id,
           detail=f"{action.kind}: {document_type} ending {last4}")
    _carry_out(session, action, account, actor=actor, now=now, wording=wording)
    session.commit()
    return action


def cancel_action(session: Session, *, action_id: int, actor: Actor, now: datetime) -> bool:
    """Drop a waiting action (the caller failed the check, or it was a mistake); False when it no longer waits."""
    action, account = _lock_action(session, action_id)
    if action.state != AWAITING_CHECK:
        session.rollback()
        return False
    action.state, action.finished_at = CANCELLED, now
    record(session, actor, f"{action.kind}_cancelled", obj=action, account_id=account.id)
    session.commit()
    return True


def _lock_action(session: Session, action_id: int) -> tuple[GuardedAction, Account]:
    """The action and its account, the account's row locked first (the order every change of a line takes)."""
    account_id = session.scalar(select(GuardedAction.account_id).where(GuardedAction.id == action_id))
    account = lock_accounts(session, account_id).get(account_id) if account_id else None
    if account is None:
        session.rollback()
        raise NotFound("action")
    return session.get(GuardedAction, action_id, populate_existing=True), account


def _carry_out(session: Session, action: GuardedAction, account: Account, *, actor: Actor, now: datetime,
               wording: Wording) -> None:
    params = action.details
    action.state, action.finished_at = DONE, now
    number = format_msisdn(account.line.msisdn)
    if action.kind == SIM_REISSUE:
        account.line.iccid = params["iccid"]
        # The switch moves the number to the new SIM; the old one stops with that command.
        provisioning.queue_command(session, account, subject=SWITCH_SUBJECT, operation="sim.replace",
                                   params={"iccid": params["iccid"]})
        record(session, actor, "sim_reissued", obj=account, account_id=account.id,
               detail=f"{mask_msisdn(account.line.msisdn)}, new SIM ending {params['iccid'][-4:]}")
        message = _l("%(brand)s: the SIM card of number %(number)s was replaced; the old SIM no longer works. If it "
                     "was not you, call %(support)s at once.")
        # The line's own SMS may reach the new SIM first (the switch is not waited for): the owner's other numbers
        # are told as well, since they are in the owner's hands whoever holds the new card.
        _sms_to_line(session, account, message, wording, also_owners_numbers=True, number=number)
    else:
        port = PortOut(account_id=account.id, recipient=params["recipient"],
                       requested_on=date.fromisoformat(params["requested_on"]), created_at=now)
        session.add(port)
        session.flush()
        record(session, actor, "port_out_started", obj=port, account_id=account.id,
               detail=f"{mask_msisdn(account.line.msisdn)} to {params['recipient']}")
        message = _l("%(brand)s: a request to move number %(number)s to %(recipient)s was received. If it was not "
                     "you, call %(support)s at once.")
        _sms_to_line(session, account, message, wording, number=number, recipient=params["recipient"])


def _sms_to_line(session: Session, account: Account, message, wording: Wording, *, also_owners_numbers: bool = False,
                 **params) -> None:
    """A security notice to the line itself, always sent (no alert setting or quiet hours hold it back);
    ``also_owners_numbers``: and to every other number its owner's login manages."""
    with force_locale(owner_language(session, account.id, wording.sms_locale)):
        text = str(message) % {"brand": wording.brand, "support": wording.support_phone, **params}
    recipients = [account.line.msisdn]
    owner = session.scalar(select(Login.id).where(Login.primary_account_id == account.id))
    if also_owners_numbers and owner is not None:
        recipients += [to for to in _numbers_of_login(session, owner) if to != account.line.msisdn]
    for to in recipients:
        queue_sms(session, to=to, text=text, purpose="notice")


def finish_port_out(session: Session, *, port_out_id: int, actor: Actor, now: datetime) -> bool:
    """The recipient operator has taken the number: the port-out is done and the contract ends
    (``contracts.terminate``: refused while the balance is negative). False when it is not started any more."""
    port, account = _lock_port_out(session, port_out_id)
    if port.state != STARTED:
        session.rollback()
        return False
    port.state, port.finished_at = DONE, now
    provisioning.queue_command(session, account, subject="line", operation="line.port_out",
                               params={"recipient": port.recipient})
    record(session, actor, "port_out_done", obj=port, account_id=account.id, detail=port.recipient)
    if account.status == AccountStatus.terminated.value:
        session.commit()
    else:
        contracts.terminate(session, account_id=account.id, reason=f"Number ported out to {port.recipient}",
                            actor=actor, now=now)
    return True


def cancel_port_out(session: Session, *, port_out_id: int, actor: Actor, now: datetime, wording: Wording) -> bool:
    """The port-out will not happen (withdrawn or refused); the owner is told. False when it is not started."""
    port, account = _lock_port_out(session, port_out_id)
    if port.state != STARTED:
        session.rollback()
        return False
    port.state, port.finished_at = CANCELLED, now
    record(session, actor, "port_out_cancelled", obj=port, account_id=account.id, detail=port.recipient)
    _sms_to_line(session, account, _l("%(brand)s: the request to move number %(number)s to another operator is "
                                      "cancelled. The number stays with us."),
                 wording, number=format_msisdn(account.line.msisdn))
    session.commit()
    return True


def _lock_port_out(session: Session, port_out_id: int) -> tuple[PortOut, Account]:
    account_id = session.scalar(select(PortOut.account_id).where(PortOut.id == port_out_id))
    account = lock_accounts(session, account_id).get(account_id) if account_id else None
    if account is None:
        session.rollback()
        raise NotFound("port_out")
    return session.get(PortOut, port_out_id, populate_existing=True), account


# ---- what staff see --------------------------------------------------------------------------------

@dataclass(frozen=True)
class LineGuard:
    lock: LockState
    waiting: list[GuardedAction] = field(default_factory=list)  # actions awaiting a second check
    port_out: PortOut | None = None  # a port-out in progress

    def waiting_for(self, kind: str) -> GuardedAction | None:
        return next((a for a in self.waiting if a.kind == kind), None)


@dataclass(frozen=True)
class Waiting:
    """An action awaiting a second check, as the staff queue lists it."""
    action_id: int
    kind: str
    requested_at: datetime
    requested_by: str
    account_id: int
    msisdn: str | None
    customer_id: int
    customer_name: str


def awaiting_checks(session: Session) -> list[Waiting]:
    """Every action awaiting a second staff member's check, oldest first: the second member finds them here, not
    only on the customer's page the first one had open."""
    rows = session.execute(
        select(GuardedAction.id, GuardedAction.kind, GuardedAction.requested_at, Staff.name, Account.id, Line.msisdn,
               Customer.id, Customer.name)
        .join(Staff, Staff.id == GuardedAction.requested_by).join(Account, Account.id == GuardedAction.account_id)
        .join(Customer, Customer.id == Account.customer_id).outerjoin(Line, Line.account_id == Account.id)
        .where(GuardedAction.state == AWAITING_CHECK).order_by(GuardedAction.requested_at, GuardedAction.id))
    return [Waiting(*row) for row in rows]


def guards(session: Session, account_ids: list[int], *, now: datetime) -> dict[int, LineGuard]:
    """Each account's lock, waiting actions (with who started them) and open port-out, for the staff customer page,
    in one query: a row per waiting action, at most one of each kind per line (``_refusal``)."""
    if not account_ids:
        return {}
    rows = session.execute(
        select(Account.id, SimLock, PortOut, GuardedAction, Staff)
        .outerjoin(SimLock, SimLock.account_id == Account.id)
        .outerjoin(PortOut, (PortOut.account_id == Account.id) & (PortOut.state == STARTED))
        .outerjoin(GuardedAction, (GuardedAction.account_id == Account.id) & (GuardedAction.state == AWAITING_CHECK))
        .outerjoin(Staff, Staff.id == GuardedAction.requested_by)  # in the session: action.requester needs no query
        .where(Account.id.in_(account_ids)).order_by(Account.id, GuardedAction.id)).all()
    found: dict[int, LineGuard] = {}
    for account_id, lock, port, action, _requester in rows:
        guard = found.setdefault(account_id, LineGuard(lock=_state_of(lock, now), port_out=port))
        if action is not None:
            guard.waiting.append(action)
    return found
