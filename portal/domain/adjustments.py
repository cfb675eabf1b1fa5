"""Staff corrections of a balance: always with a reason, always audited."""
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from portal import formatting
from portal.domain import idempotency, ledger
from portal.domain.audit import Actor, record
from portal.domain.errors import DomainError

MAX_ADJUSTMENT = 10_000_000  # kopecks: 100 000 roubles


class AdjustmentRefused(DomainError):
    field = "amount"


def adjust_balance(session: Session, *, account_id: int, amount: int, reason: str, idempotency_key: str,
                   actor: Actor, now: datetime) -> None:
    """Credit (amount > 0) or debit (< 0) an account by hand: an ``adjustment`` entry naming the reason."""
    reason = (reason or "").strip()
    if len(reason) < 5:
        raise AdjustmentRefused(_l("Say why, in a few words: the customer will see it."), field="reason")
    if amount == 0 or abs(amount) > MAX_ADJUSTMENT:
        raise AdjustmentRefused(_l("From %(min)s to %(max)s.", min=formatting.money(1),
                                   max=formatting.money(MAX_ADJUSTMENT, whole=True)))
    account = idempotency.lock_account_for(session, account_id=account_id, idempotency_key=idempotency_key,
                                           action="adjust_balance")
    if account is None:
        return
    ledger.post(session, account, amount=amount, kind="adjustment", key=f"adjust:{idempotency_key}",
                description=reason[:200], now=now)
    record(session, actor, "balance_adjusted", obj=account, account_id=account.id, detail=f"{amount}: {reason}"[:500])
    idempotency.commit_once(session)
