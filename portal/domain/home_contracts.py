"""Home contracts for staff: opening one for a customer, with its login, and changing its status.

Ending a contract is ``domain.contracts.terminate``; both kinds of account share it.
"""
import secrets
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.domain.accounts import lock_accounts
from portal.domain.audit import Actor, record
from portal.domain.errors import DomainError, NotFound
from portal.domain.idempotency import KEY_FORMAT, commit_once
from portal.domain.passwords import generate_temporary_password, hash_secret
from portal.models import (
    Account,
    AccountKind,
    AccountStatus,
    Customer,
    HomeContract,
    Login,
    LoginAccount,
    ProcessedRequest,
    Tariff,
)

CONNECTION_TYPES = {"fttb": _l("FTTB: fibre to the building, Ethernet to the flat"),
                    "gpon": _l("GPON: fibre to the flat"), "adsl": _l("ADSL: the telephone line"),
                    "docsis": _l("DOCSIS: the cable TV line")}
# What staff may set; "terminated" is the separate, final step (domain.contracts.terminate).
STATUSES = {"active": _l("Active"), "suspended": _l("Suspended"),
            "blocked_by_owner": _l("Blocked at the customer's request")}
STATUS_ACTIONS = {"active": "account_restored", "suspended": "account_suspended",
                  "blocked_by_owner": "contract_paused"}
INITIAL_PASSWORD_LENGTH = 10
MAX_ADDRESS = 300
OPEN_ACTION = "home_contract_opened"


@dataclass(frozen=True)
class OpenedContract:
    account: Account
    password: str | None  # the initial password, shown once; None when this submission had opened it before


def new_contract_no(session: Session) -> str:
    """A free number HC-xxxxxx: random, so numbers do not tell how many customers there are."""
    for _ in range(20):
        number = f"HC-{secrets.randbelow(900000) + 100000}"
        if not session.scalar(select(HomeContract.account_id).where(HomeContract.contract_no == number)):
            return number
    raise DomainError(_l("No free contract number was found. Try again."))


def _opened_by(session: Session, key: str) -> Account | None:
    account_id = session.scalar(select(ProcessedRequest.account_id).where(
        ProcessedRequest.key == key, ProcessedRequest.action == OPEN_ACTION))
    return session.get(Account, account_id) if account_id else None


def open_home_contract(session: Session, *, customer_id: int, address: str, connection_type: str, tariff_id: int,
                       contact_phone: str, billing_day: int, idempotency_key: str, actor: Actor,
                       now: datetime) -> OpenedContract:
    """A home contract for an existing customer, and a login for it with an initial password to change.

    The password exists in clear only in the answer; the same submission (key) never opens a second contract.
    """
    if not KEY_FORMAT.match(idempotency_key or ""):
        raise DomainError(_l("The form has expired. Reload the page and try again."))
    existing = _opened_by(session, idempotency_key)
    if existing is not None:
        return OpenedContract(existing, None)
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound("customer")
    address = " ".join((address or "").split())
    if not 5 <= len(address) <= MAX_ADDRESS:
        raise DomainError(_l("Enter the full address: street, house and flat."), field="address")
    if connection_type not in CONNECTION_TYPES:
        raise DomainError(_l("Choose from the list."), field="connection_type")
    tariff = session.get(Tariff, tariff_id)
    if tariff is None or tariff.kind != AccountKind.home.value or tariff.archived:
        raise DomainError(_l("Choose a home tariff that is offered."), field="tariff_id")
    if not 1 <= billing_day <= 28:
        raise DomainError(_l("A day from 1 to 28: every month has it."), field="billing_day")
    if not contact_phone:
        raise DomainError(_l("Enter the contact phone."), field="contact_phone")
    account = Account(customer_id=customer.id, kind=AccountKind.home.value, status=AccountStatus.active.value,
                      region=customer.region, tariff_id=tariff.id, balance=0, created_at=now)
    session.add(account)
    session.flush()
    contract = HomeContract(account_id=account.id, contract_no=new_contract_no(session), address=address,
                            connection_type=connection_type, billing_day=billing_day, contact_phone=contact_phone)
    password = generate_temporary_password(INITIAL_PASSWORD_LENGTH)
    login = Login(primary_account_id=account.id, password_hash=hash_secret(password), must_change_password=True,
                  created_at=now)
    session.add_all([contract, login])
    session.flush()
    session.add(LoginAccount(login_id=login.id, account_id=account.id, created_at=now))
    session.add(ProcessedRequest(key=idempotency_key, action=OPEN_ACTION, account_id=account.id, created_at=now))
    record(session, actor, OPEN_ACTION, account_id=account.id, object_type="account", object_id=str(account.id),
           detail=f"{contract.contract_no}, {tariff.code}, {connection_type}, billing day {billing_day}",
           created_at=now)
    if not commit_once(session):
        # A concurrent twin of this submission (or a contract number taken meanwhile): its contract stands.
        existing = _opened_by(session, idempotency_key)
        if existing is None:
            raise DomainError(_l("The contract was not opened. Try again."))
        return OpenedContract(existing, None)
    return OpenedContract(account, password)


def home_account(session: Session, account_id: int) -> Account:
    """A home contract's account, for staff; NotFound for a missing id or a mobile line."""
    account = session.get(Account, account_id)
    if account is None or account.home_contract is None:
        raise NotFound("account")
    return account


def change_home_status(session: Session, *, account_id: int, status: str, reason: str, actor: Actor,
                       now: datetime) -> None:
    """Set a home contract active, suspended or blocked at the customer's request, with the reason; audited."""
    reason = " ".join((reason or "").split())
    if status not in STATUSES:
        raise DomainError(_l("Choose from the list."), field="new_status")
    if len(reason) < 3:
        raise DomainError(_l("Give the reason."), field="reason")
    account = lock_accounts(session, account_id).get(account_id)
    if account is None or account.home_contract is None:
        session.rollback()
        raise NotFound("account")
    if account.status == AccountStatus.terminated.value:
        session.rollback()
        raise DomainError(_l("The contract has ended: its status cannot change."))
    if account.status == status:
        session.rollback()
        raise DomainError(_l("The contract already has this status."), field="new_status")
    previous, account.status = account.status, status
    record(session, actor, STATUS_ACTIONS[status], account_id=account.id, object_type="account",
           object_id=str(account.id), detail=f"{previous} → {status}: {reason}"[:200], created_at=now)
    session.commit()
