"""Auto-payments: standing top-ups from a saved card, run by the billing run."""
from datetime import date, datetime

from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from portal import formatting
from portal.domain import alerts, payments
from portal.domain.audit import SYSTEM, Actor, record
from portal.domain.errors import DomainError, NotFound
from portal.domain.sms import queue_sms
from portal.models import Account, AutoPayment, CardToken
from portal.payment_gateway import PaymentProvider


class BadRule(DomainError):
    field = "kind"


def saved_cards(session: Session, login_id: int) -> list[CardToken]:
    return list(session.scalars(select(CardToken).where(CardToken.login_id == login_id).order_by(CardToken.id)))


def rules_of(session: Session, account_id: int) -> list[AutoPayment]:
    return list(session.scalars(select(AutoPayment).where(AutoPayment.account_id == account_id)
                                .order_by(AutoPayment.id)))


def create_rule(session: Session, *, account_id: int, login_id: int, card_token_id: int, kind: str,
                threshold: int | None, day: int | None, amount: int, actor: Actor) -> AutoPayment:
    """One rule: "below X top up Y", or "every month on day D top up Y", from one of the login's cards."""
    card = session.get(CardToken, card_token_id)
    if card is None or card.login_id != login_id:
        raise BadRule(_l("Choose one of your saved cards."), field="card")
    if not 10000 <= amount <= 1500000:
        raise BadRule(_l("From %(min)s to %(max)s.", min=formatting.money(10000, whole=True),
                         max=formatting.money(1500000, whole=True)), field="amount")
    if kind == "threshold":
        if threshold is None or not 0 <= threshold <= 500000:
            raise BadRule(_l("A threshold from %(min)s to %(max)s.", min=formatting.money(0, whole=True),
                             max=formatting.money(500000, whole=True)), field="threshold")
        day = None
    elif kind == "monthly":
        if day is None or not 1 <= day <= 28:
            raise BadRule(_l("A day of the month from 1 to 28."), field="day")
        threshold = None
    else:
        raise BadRule(_l("Choose when to top up."))
    rule = AutoPayment(account_id=account_id, login_id=login_id, card_token_id=card.id, kind=kind,
                       threshold=threshold, day=day, amount=amount)
    session.add(rule)
    session.flush()
    record(session, actor, "autopay_created", obj=rule, account_id=account_id, detail=f"{kind} {amount}")
    session.commit()
    return rule


def set_enabled(session: Session, *, account_id: int, rule_id: int, enabled: bool, actor: Actor) -> AutoPayment:
    rule = session.get(AutoPayment, rule_id)
    if rule is None or rule.account_id != account_id:
        raise NotFound("auto_payment")
    rule.enabled = enabled
    if enabled:
        rule.failures = 0
    record(session, actor, "autopay_enabled" if enabled else "autopay_disabled", obj=rule, account_id=account_id)
    session.commit()
    return rule


def delete_rule(session: Session, *, account_id: int, rule_id: int, actor: Actor) -> None:
    rule = session.get(AutoPayment, rule_id)
    if rule is None or rule.account_id != account_id:
        raise NotFound("auto_payment")
    record(session, actor, "autopay_deleted", obj=rule, account_id=account_id)
    session.delete(rule)
    session.commit()


def _due(rule: AutoPayment, balance: int, day: date) -> bool:
    if not rule.enabled or rule.last_run_on == day.isoformat():
        return False
    if rule.kind == "threshold":
        return balance < rule.threshold
    # A monthly rule is due on its day, and on the days after while the last try failed.
    return day.day == rule.day or rule.failures > 0


def due_rule_ids(session: Session, *, day: date, first_id: int | None = None,
                 last_id: int | None = None) -> list[int]:
    """The rules due on ``day`` (of the accounts in [first_id, last_id] when given), in one query: enabled,
    not run that day, a threshold above the balance, or a monthly rule on its day or after a failure."""
    query = (select(AutoPayment.id).join(Account, Account.id == AutoPayment.account_id)
             .where(AutoPayment.enabled.is_(True),
                    or_(AutoPayment.last_run_on.is_(None), AutoPayment.last_run_on != day.isoformat()),
                    or_(and_(AutoPayment.kind == "threshold", Account.balance < AutoPayment.threshold),
                        and_(AutoPayment.kind == "monthly", or_(AutoPayment.day == day.day,
                                                                 AutoPayment.failures > 0))))
             .order_by(AutoPayment.id))
    if first_id is not None and last_id is not None:
        query = query.where(AutoPayment.account_id.between(first_id, last_id))
    return list(session.scalars(query))


def charge_rule(session: Session, provider: PaymentProvider | None, *, rule_id: int, day: date, now: datetime,
                max_failures: int, brand: str, sms_locale: str) -> bool | None:
    """One auto-payment, if still due: True when the card paid, False when it declined (told by SMS; too many
    turn the rule off), None when nothing was decided (not due any more, done by another delivery of the same
    job, no provider configured, or the provider's answer is still unknown: the payments' reconciliation
    decides it).

    Safe to run twice: the payment's key is the rule's and the day's, and the rule is marked once.
    No lock is held while the provider is asked (``payments.top_up_by_saved_card`` commits first).
    """
    rule = session.get(AutoPayment, rule_id, populate_existing=True)
    account = session.get(Account, rule.account_id, populate_existing=True) if rule is not None else None
    if provider is None or rule is None or not _due(rule, account.balance, day):
        session.rollback()
        return None
    card, amount = rule.card, rule.amount
    session.commit()
    payment = payments.top_up_by_saved_card(session, provider, account_id=account.id, card=card, amount=amount,
                                            idempotency_key=f"auto:{rule_id}:{day}", actor=SYSTEM, now=now)
    if payment.status not in payments.DECIDED:
        session.rollback()
        return None
    rule = session.get(AutoPayment, rule_id, with_for_update=True, populate_existing=True)
    if rule.last_run_on == day.isoformat():
        session.rollback()  # another delivery of this job marked it
        return None
    rule.last_run_on = day.isoformat()
    if payment.status == "confirmed":
        rule.failures = 0
        session.commit()
        return True
    rule.failures += 1
    if rule.failures >= max_failures:
        rule.enabled = False
        record(session, SYSTEM, "autopay_disabled", obj=rule, account_id=account.id, detail="too many failures")
    line = session.get(Account, account.id).line
    if line is not None:
        with force_locale(alerts.owner_language(session, account.id, sms_locale)):
            shown = formatting.money(amount, whole=True)
            text = (gettext("%(brand)s: the auto-payment of %(amount)s failed. It is turned off; "
                            "check your card in the personal account.", brand=brand, amount=shown)
                    if not rule.enabled else
                    gettext("%(brand)s: the auto-payment of %(amount)s failed. We will try again "
                            "tomorrow.", brand=brand, amount=shown))
        queue_sms(session, to=line.msisdn, text=text, purpose="notice")
    session.commit()
    return False


def run_due(session: Session, provider: PaymentProvider | None, *, day: date, now: datetime, max_failures: int,
            brand: str, sms_locale: str) -> tuple[int, int]:
    """Charge every rule due on ``day``, one after another (the billing jobs run them in parallel instead)."""
    done = failed = 0
    for rule_id in due_rule_ids(session, day=day):
        outcome = charge_rule(session, provider, rule_id=rule_id, day=day, now=now, max_failures=max_failures,
                              brand=brand, sms_locale=sms_locale)
        done += outcome is True
        failed += outcome is False
    return done, failed
