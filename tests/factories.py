"""Plain ``make_*`` functions with keyword defaults; they flush, the caller commits."""
from datetime import timedelta
from itertools import count

from sqlalchemy import select

from portal.domain.passwords import hash_secret
from portal.models import (
    Account,
    Allowance,
    Customer,
    HomeContract,
    LedgerEntry,
    Line,
    Login,
    LoginAccount,
    Service,
    Staff,
    Subscription,
    Tariff,
    utcnow,
)

PASSWORD = "correct-horse-42"
# The topics the migration inserts (20261207_a7c4e2f19b03); tests/conftest.py puts them back after each test.
DEFAULT_TOPICS = [
    {"code": code, "name_ru": ru, "name_en": en, "position": i, "active": True}
    for i, (code, ru, en) in enumerate([
        ("money", "Деньги и платежи", "Money and payments"),
        ("tariff", "Тариф и услуги", "Tariff and services"),
        ("quality", "Качество связи", "Connection quality"),
        ("home", "Домашний интернет и ТВ", "Home internet and TV"),
        ("other", "Прочее", "Other"),
    ], start=1)
]
_seq = count(1)
_hashes: dict[str, str] = {}


def _hash(secret: str) -> str:
    # Hashing is slow on purpose; tests reuse one hash per password.
    if secret not in _hashes:
        _hashes[secret] = hash_secret(secret)
    return _hashes[secret]


def make_tariff(session, **values) -> Tariff:
    n = next(_seq)
    tariff = Tariff(**{"code": f"t{n}", "name": f"Tariff {n}", "kind": "mobile", "monthly_fee": 50000,
                       "minutes": 300, "sms": 100, "data_mb": 10240, **values})
    session.add(tariff)
    session.flush()
    return tariff


def make_customer(session, **values) -> Customer:
    n = next(_seq)
    customer = Customer(**{"name": f"Customer {n}", "region": "Moscow", "contract_no": f"C-{n:06d}", **values})
    session.add(customer)
    session.flush()
    return customer


def make_line(session, msisdn: str = "+79161234567", *, customer=None, tariff=None, balance: int = 10000,
              status: str = "active") -> Account:
    customer = customer or make_customer(session)
    tariff = tariff or make_tariff(session)
    account = Account(customer=customer, kind="mobile", region=customer.region, tariff=tariff, balance=balance,
                      status=status)
    session.add_all([account, Line(account=account, msisdn=msisdn)])
    session.flush()
    if balance:
        session.add(LedgerEntry(account_id=account.id, amount=balance, kind="adjustment"))
    session.flush()
    return account


def make_home_contract(session, contract_no: str = "HC-100200", *, customer=None, tariff=None, balance: int = 0,
                       billing_day: int = 1, contact_phone: str | None = "+79161234567",
                       status: str = "active") -> Account:
    customer = customer or make_customer(session)
    tariff = tariff or make_tariff(session, kind="home", unlimited_data=True, data_mb=0)
    account = Account(customer=customer, kind="home", region=customer.region, tariff=tariff, balance=balance,
                      status=status)
    session.add_all([account, HomeContract(account=account, contract_no=contract_no, address="Moscow, Tverskaya 1",
                                           connection_type="gpon", billing_day=billing_day,
                                           contact_phone=contact_phone)])
    session.flush()
    if balance:
        session.add(LedgerEntry(account_id=account.id, amount=balance, kind="adjustment"))
        session.flush()
    return account


def make_login(session, account: Account, *, password: str | None = PASSWORD, **values) -> Login:
    login = Login(primary_account_id=account.id, password_hash=_hash(password) if password else None, **values)
    session.add(login)
    session.flush()
    session.add(LoginAccount(login_id=login.id, account_id=account.id))
    session.flush()
    return login


def ensure_login(session, msisdn: str, *, password: str = PASSWORD) -> Login:
    account = session.scalar(select(Account).join(Line).where(Line.msisdn == msisdn)) or make_line(session, msisdn)
    login = session.scalar(select(Login).where(Login.primary_account_id == account.id))
    if login is None:
        login = make_login(session, account, password=password)
    session.commit()
    return login


def make_staff(session, *, email: str = "agent@example.com", role: str = "support",
               password: str = PASSWORD) -> Staff:
    staff = Staff(email=email, name=email.split("@")[0].title(), role=role, password_hash=_hash(password))
    session.add(staff)
    session.commit()
    return staff


def make_service(session, **values) -> Service:
    n = next(_seq)
    service = Service(**{"code": f"s{n}", "name": f"Service {n}", "category": "calls", "kind": "mobile",
                         "monthly_fee": 3000, **values})
    session.add(service)
    session.flush()
    return service


def make_subscription(session, account, service, **values) -> Subscription:
    subscription = Subscription(account_id=account.id, service_id=service.id, **values)
    session.add(subscription)
    session.flush()
    return subscription


def make_allowance(session, account, *, now=None, **values) -> Allowance:
    now = now or utcnow()
    allowance = Allowance(**{"account_id": account.id, "period_start": now - timedelta(days=10),
                             "period_end": now + timedelta(days=20), "minutes_total": 500, "minutes_left": 120,
                             "sms_total": 100, "sms_left": 100, "data_mb_total": 15360, "data_mb_left": 2560,
                             **values})
    session.add(allowance)
    session.flush()
    return allowance
