"""Pay now, without a password (issue 18, point 5): a line that runs low or is suspended gets an SMS with a
signed, short-lived link; whoever opens it sees the masked number and the amount due, and may pay it through the
payment provider without signing in. The link names the account and when it was made, signed with the app's
secret: nothing to store, nothing to look up, and nothing else is revealed by it.
"""
import math
from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.domain.errors import NotFound
from portal.domain.phones import mask_msisdn
from portal.models import Account, AccountStatus, Line, Service, Subscription, Tariff

SALT = "pay-link"  # a pay link's signature is no good for anything else signed with the secret
PAYABLE = (AccountStatus.active.value, AccountStatus.suspended.value, AccountStatus.blocked_by_owner.value,
           AccountStatus.blocked_lost.value)


class LinkDamaged(Exception):
    """The link was changed or cut: its signature does not hold."""


class LinkExpired(Exception):
    """The link is older than it may be."""


@dataclass(frozen=True)
class Due:
    account_id: int
    masked: str  # +7 916 ***-**-67
    due: int  # kopecks to pay now (whole roubles): the debt and the next monthly charge; 0: nothing due
    suspended: bool


def _signer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=SALT)


def make_token(account_id: int, *, secret: str) -> str:
    return _signer(secret).dumps(account_id)


def account_of(token: str, *, secret: str, max_age_s: int) -> int:
    try:
        account_id = _signer(secret).loads(token, max_age=max_age_s)
    except SignatureExpired:
        raise LinkExpired() from None
    except BadSignature:
        raise LinkDamaged() from None
    if not isinstance(account_id, int):
        raise LinkDamaged()
    return account_id


def amount_due(balance: int, next_charge: int) -> int:
    """What brings the balance up to the next monthly charge, in whole roubles (0 when it is covered)."""
    short = next_charge - balance
    return 0 if short <= 0 else math.ceil(short / 100) * 100


def due_of(session: Session, account_id: int) -> Due:
    """The masked number and the amount due of a mobile line that can still be paid for; NotFound otherwise (a
    closed line's link says no more than a damaged one)."""
    services = (select(func.coalesce(func.sum(Service.monthly_fee), 0))
                .join(Subscription, Subscription.service_id == Service.id)
                .where(Subscription.account_id == Account.id, Subscription.status == "active").scalar_subquery())
    row = session.execute(select(Account.balance, Account.status, Line.msisdn,
                                 (func.coalesce(Tariff.monthly_fee, 0) + services).label("charge"))
                          .join(Line, Line.account_id == Account.id).outerjoin(Tariff, Tariff.id == Account.tariff_id)
                          .where(Account.id == account_id)).first()
    if row is None or row.status not in PAYABLE:
        raise NotFound("account")
    return Due(account_id, mask_msisdn(row.msisdn), amount_due(row.balance, row.charge),
               row.status == AccountStatus.suspended.value)
