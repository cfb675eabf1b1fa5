"""Call forwarding: four conditions, each with its own target and on/off, set on the switch.

"Always" takes every call, so while it is on the other three never trigger (the switch
works that way; the page says so). A target is a real number of this country, not the
line itself, and not a line of the same login that would send the calls back round.
"""
from dataclasses import dataclass
from datetime import datetime

import phonenumbers
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.domain import idempotency, provisioning
from portal.domain.accounts import accounts_of_login
from portal.domain.audit import Actor, record
from portal.domain.errors import DomainError, NotFound
from portal.domain.phones import mask_msisdn
from portal.models import AccountStatus, ForwardingRule, SwitchCommand

CONDITIONS = ("always", "busy", "no_answer", "unreachable")
CONDITION_LABELS = {
    "always": _l("Always"),
    "busy": _l("When busy"),
    "no_answer": _l("When there is no answer"),
    "unreachable": _l("When the phone is off or out of reach"),
}
SECONDS_RANGE = (5, 30)
DEFAULT_SECONDS = 20


class ForwardingRefused(DomainError):
    field = "target"


@dataclass(frozen=True)
class Condition:
    """One condition as the page shows it: the saved rule (if any) and the switch's state of it."""

    name: str
    rule: ForwardingRule | None
    command: SwitchCommand | None

    @property
    def label(self):
        return CONDITION_LABELS[self.name]

    @property
    def enabled(self) -> bool:
        return bool(self.rule and self.rule.enabled)


def subject(condition: str) -> str:
    return f"forwarding:{condition}"


def rules_of(session: Session, account_id: int) -> dict[str, ForwardingRule]:
    return {rule.condition: rule for rule in
            session.scalars(select(ForwardingRule).where(ForwardingRule.account_id == account_id))}


def conditions_of(session: Session, account_id: int) -> list[Condition]:
    rules = rules_of(session, account_id)
    commands = provisioning.latest(session, account_id, [subject(c) for c in CONDITIONS])
    return [Condition(c, rules.get(c), commands.get(subject(c))) for c in CONDITIONS]


def _loops_back(session: Session, *, login_id: int, origin: str, target: str) -> bool:
    """Would calls to ``origin`` forwarded to ``target`` come back to ``origin`` through this login's lines?"""
    lines = {a.line.msisdn: a.id for a in accounts_of_login(session, login_id) if a.line is not None}
    rules = session.scalars(select(ForwardingRule).where(ForwardingRule.account_id.in_(list(lines.values())),
                                                         ForwardingRule.enabled.is_(True))).all()
    forwards: dict[int, set[str]] = {}
    for rule in rules:
        forwards.setdefault(rule.account_id, set()).add(rule.target)
    seen, stack = set(), [target]
    while stack:
        number = stack.pop()
        if number == origin:
            return True
        if number in seen or number not in lines:
            continue
        seen.add(number)
        stack.extend(forwards.get(lines[number], ()))
    return False


def check_target(session: Session, *, login_id: int, msisdn: str, target: str, country: str) -> None:
    """Refuse a target the switch must not get, with the reason."""
    number = phonenumbers.parse(target, None)
    if phonenumbers.region_code_for_number(number) != country:
        raise ForwardingRefused(_l("Calls can be forwarded only to numbers in this country."))
    if target == msisdn:
        raise ForwardingRefused(_l("This is the number itself: calls cannot be forwarded to it."))
    if _loops_back(session, login_id=login_id, origin=msisdn, target=target):
        raise ForwardingRefused(_l("That number forwards its calls back to this one: calls would go round in "
                                   "a loop. Change the forwarding on that number first."))


def set_forwarding(session: Session, *, account_id: int, login_id: int, condition: str, target: str | None,
                   enabled: bool, seconds: int | None, country: str, idempotency_key: str, actor: Actor,
                   now: datetime) -> bool:
    """Save one condition and send it to the switch; False when this submission was made before."""
    if condition not in CONDITIONS:
        raise NotFound("condition")
    if condition == "no_answer":
        seconds = DEFAULT_SECONDS if seconds is None else seconds
        if not SECONDS_RANGE[0] <= seconds <= SECONDS_RANGE[1]:
            raise ForwardingRefused(_l("Choose from %(low)d to %(high)d seconds.", low=SECONDS_RANGE[0],
                                       high=SECONDS_RANGE[1]), field="seconds")
    else:
        seconds = None
    if enabled and not target:
        raise ForwardingRefused(_l("Enter the number to forward calls to."))
    account = idempotency.lock_line_for(session, account_id=account_id, idempotency_key=idempotency_key,
                                        action="forwarding")
    if account is None:
        return False
    if account.status == AccountStatus.terminated.value:
        session.rollback()
        raise ForwardingRefused(_l("The contract for this number is terminated."), field=None)
    if target:
        try:
            check_target(session, login_id=login_id, msisdn=account.line.msisdn, target=target, country=country)
        except ForwardingRefused:
            session.rollback()
            raise
    rule = rules_of(session, account.id).get(condition)
    if rule is None:
        rule = ForwardingRule(account_id=account.id, condition=condition)
        session.add(rule)
    rule.target, rule.enabled, rule.seconds, rule.updated_at = target or rule.target, enabled, seconds, now
    provisioning.queue_command(session, account, subject=subject(condition), operation="forwarding.set",
                               params={"condition": condition, "enabled": enabled, "target": rule.target,
                                       "seconds": seconds})
    shown = mask_msisdn(rule.target) if rule.target else "-"
    record(session, actor, "forwarding_changed", obj=account, account_id=account.id,
           detail=f"{condition}: {'on' if enabled else 'off'} {shown}")
    return idempotency.commit_once(session)
