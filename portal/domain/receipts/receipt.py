"""A money operation's receipt: what it was, when, how much, how it was paid, and the provider's and the tax
service's references for it; found by its operation code on the asker's own accounts only."""
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from portal import formatting
from portal.domain import statement
from portal.domain.errors import DomainError, NotFound
from portal.domain.history import KIND_LABELS
from portal.domain.phones import format_msisdn
from portal.domain.receipts import codes
from portal.models import Account, CardPayment, LedgerEntry, PromisedPayment, Transfer

# Money put on the balance from outside: the receipt says "top-up of the balance" rather than the entry's line.
TOP_UPS = ("card_topup", "voucher")


class BadCode(DomainError):
    """What was typed cannot be an operation code."""

    field = "code"


class NoSuchOperation(DomainError):
    field = "code"


@dataclass(frozen=True)
class Receipt:
    entry: LedgerEntry
    account: Account
    payment: CardPayment | None = None  # a card (or СБП) top-up at the provider
    transfer: Transfer | None = None
    counterpart: str | None = None  # the other number of a transfer, E.164
    promise: PromisedPayment | None = None
    fee: int = 0  # kopecks charged with the operation (a transfer's, a promised payment's)
    repaid: int = 0  # kopecks of a top-up that repaid a promised payment

    @property
    def code(self) -> str:
        return self.entry.code


@dataclass(frozen=True)
class Fact:
    label: str
    value: str
    url: str | None = None  # the value is also a link (the fiscal receipt)


def parse(typed: str | None) -> str:
    """The code in what a person typed; BadCode when it cannot be one."""
    code = codes.normalise(typed)
    if code is None:
        raise BadCode(_l("An operation code has 8 letters and digits, like %(example)s.", example="K7QM-4XPD"))
    return code


def find(session: Session, *, typed: str | None, account_ids: list[int]) -> LedgerEntry:
    """The operation with this code on one of ``account_ids`` (the asker's own accounts): a code of anyone else's
    is answered exactly like a code nobody has."""
    code = parse(typed)
    entry = session.scalar(select(LedgerEntry).where(LedgerEntry.code == code)) if account_ids else None
    if entry is None or entry.account_id not in account_ids:
        raise NoSuchOperation(_l("No operation with this code on your numbers."))
    return entry


def find_for_staff(session: Session, typed: str | None) -> tuple[LedgerEntry, Account] | None:
    """Staff look an operation up by its code across every customer: the entry and its account (with the
    customer), or None when the text is no code or nobody's."""
    code = codes.normalise(typed)
    entry = session.scalar(select(LedgerEntry).where(LedgerEntry.code == code)) if code else None
    if entry is None:
        return None
    return entry, session.scalar(select(Account).where(Account.id == entry.account_id)
                                 .options(joinedload(Account.customer)))


def code_of(session: Session, key: str) -> str | None:
    """The operation code of the entry written under ``key`` (a payment's ``card:<id>``…), if it has one."""
    return session.scalar(select(LedgerEntry.code).where(LedgerEntry.idempotency_key == key))


def receipt(session: Session, *, code: str, account_ids: list[int]) -> Receipt:
    """The receipt of the operation ``code`` on one of ``account_ids``; NotFound for anything else."""
    try:
        entry = find(session, typed=code, account_ids=account_ids)
    except DomainError:
        raise NotFound("operation") from None
    return _assemble(session, entry)


def _amount_of(session: Session, key: str) -> int:
    return session.scalar(select(LedgerEntry.amount).where(LedgerEntry.idempotency_key == key)) or 0


def _assemble(session: Session, entry: LedgerEntry) -> Receipt:
    account = session.get(Account, entry.account_id)
    key, kind = entry.idempotency_key or "", entry.kind
    parts = dict(entry=entry, account=account)
    if kind == "card_topup" and key.startswith("card:") and key[5:].isdigit():
        parts["payment"] = session.get(CardPayment, int(key[5:]))
    elif kind in ("transfer_out", "transfer_in") and key.startswith("transfer:"):
        token = key.split(":")[1]
        transfer = session.scalar(select(Transfer).where(Transfer.token == token))
        if transfer is not None:
            other = transfer.to_account_id if kind == "transfer_out" else transfer.from_account_id
            other_account = session.get(Account, other)
            parts.update(transfer=transfer, counterpart=other_account.line.msisdn if other_account.line else None)
            if kind == "transfer_out":
                parts["fee"] = -_amount_of(session, f"transfer:{token}:fee")
    elif kind == "promised_credit" and key.startswith("promised:"):
        parts["promise"] = session.scalar(select(PromisedPayment)
                                          .where(PromisedPayment.idempotency_key == key[len("promised:"):]))
        parts["fee"] = -_amount_of(session, f"{key}:fee")
    if entry.amount > 0 and key:
        parts["repaid"] = -_amount_of(session, f"{key}:repay")
    return Receipt(**parts)


def account_label(account: Account) -> str:
    """The number, or the home contract, the money went to or came from."""
    if account.line is not None:
        return format_msisdn(account.line.msisdn)
    if account.home_contract is not None:
        return _("home contract %(no)s", no=account.home_contract.contract_no)
    return str(account.id)


def method(r: Receipt) -> str:
    """How it was paid, as the customer knows it: the card's last digits, СБП, a prepaid card, the balance…"""
    kind = r.entry.kind
    if kind == "card_topup":
        if r.payment is not None and r.payment.card_last4:
            return _("bank card *%(last4)s", last4=r.payment.card_last4)
        if r.payment is not None and r.payment.method_title:
            return r.payment.method_title
        return _("bank card")
    if kind == "voucher":
        return _("prepaid card")
    if kind == "transfer_in":
        return _("transfer from %(number)s", number=format_msisdn(r.counterpart)) if r.counterpart \
            else _("transfer")
    if kind == "promised_credit":
        return _("promised payment")
    if kind == "bonus":
        return _("bonus points")
    if kind == "adjustment":
        return _("correction by the operator")
    return _("from the balance")


def when(moment: datetime, *, locale=None, tz=None) -> str:
    """The moment in the reader's zone, saying which zone: "7 декабря 2026 г., 10:05 (UTC+03:00)"."""
    offset = formatting.local_moment(moment, tz).strftime("%z")
    return f"{formatting.datetime_long(moment, locale, tz)} (UTC{offset[:3]}:{offset[3:]})"


def facts(r: Receipt, *, locale=None, tz=None) -> list[Fact]:
    """The receipt's lines, in the reader's language and zone: the page and its PDF print the same."""
    entry = r.entry
    purpose = _("top-up of the balance") if entry.kind in TOP_UPS else statement.text_of(entry.params,
                                                                                         entry.description)
    lines = [
        Fact(_("Operation"), str(KIND_LABELS.get(entry.kind, entry.kind))),
        Fact(_("Operation code"), codes.grouped(entry.code)),
        Fact(_("Date and time"), when(entry.created_at, locale=locale, tz=tz)),
        Fact(_("Amount"), formatting.money(abs(entry.amount), locale)),
        Fact(_("What for"), purpose),
        Fact(_("Number") if r.account.line is not None else _("Account"), account_label(r.account)),
        Fact(_("Payment method"), method(r)),
    ]
    if r.transfer is not None and entry.kind == "transfer_out" and r.counterpart:
        lines.append(Fact(_("Recipient"), format_msisdn(r.counterpart)))
    if r.fee:
        lines.append(Fact(_("Fee"), formatting.money(r.fee, locale)))
    if r.promise is not None:
        lines.append(Fact(_("Repay by"), formatting.date_long(r.promise.due_at, locale, tz)))
    if r.repaid:
        lines.append(Fact(_("Repaid the promised payment"), formatting.money(r.repaid, locale)))
    payment = r.payment
    if payment is not None and payment.gateway_ref:
        lines.append(Fact(_("Payment id at the bank"), payment.gateway_ref))
    if payment is not None:
        for label, value in ((_("Fiscal drive No. (FN)"), payment.fiscal_fn),
                             (_("Fiscal document No. (FD)"), payment.fiscal_fd),
                             (_("Fiscal sign (FPD)"), payment.fiscal_fpd)):
            if value:
                lines.append(Fact(label, value))
        if payment.fiscal_url:
            lines.append(Fact(_("Fiscal receipt"), payment.fiscal_url, url=payment.fiscal_url))
    lines.append(Fact(_("Status"), _("done")))
    return lines
