"""A home contract with TV packages, channels and extras, for the home TV and extras tests."""
from dataclasses import dataclass

from portal.models import Account, HomeContract, LedgerEntry, Service, TvChannel
from tests import factories

CONTRACT_NO = "HC-100200"
CONTACT = "+79161234567"


@dataclass
class Home:
    account: Account
    basic: Service
    night: Service
    mailbox: Service
    antivirus: Service
    static_ip: Service


def make_home(session, *, contract_no: str = CONTRACT_NO, balance: int = 100_000, contact: str | None = CONTACT,
              customer=None) -> Account:
    customer = customer or factories.make_customer(session)
    tariff = factories.make_tariff(session, kind="home", unlimited_data=True, speed_mbps=500)
    account = Account(customer=customer, kind="home", region=customer.region, tariff=tariff, balance=balance)
    session.add_all([account, HomeContract(account=account, contract_no=contract_no, address="Moscow, Street 1",
                                           connection_type="gpon", contact_phone=contact)])
    session.flush()
    session.add(LedgerEntry(account_id=account.id, amount=balance, kind="adjustment"))
    session.flush()
    return account


def make_catalog(session) -> dict[str, Service]:
    services = {
        "basic": factories.make_service(session, code="tv-basic", name="TV: Basic", kind="tv", category="tv",
                                        monthly_fee=0),
        "night": factories.make_service(session, code="tv-night", name="TV: Night 18+", kind="tv", category="tv",
                                        monthly_fee=19900),
        "mailbox": factories.make_service(session, code="home-mailbox", name="Mailbox", kind="home",
                                          category="home", monthly_fee=0),
        "antivirus": factories.make_service(session, code="home-antivirus", name="Antivirus", kind="home",
                                            category="home", monthly_fee=12900),
        "static_ip": factories.make_service(session, code="home-static-ip", name="Static IP", kind="home",
                                            category="home", connection_fee=20000, monthly_fee=15000),
    }
    session.add_all([
        TvChannel(name="Первый канал", number=1, packages=[services["basic"]]),
        TvChannel(name="Карусель", number=8, packages=[services["basic"]]),
        TvChannel(name="Ночной клуб 18+", number=901, adult=True, packages=[services["night"]]),
    ])
    session.flush()
    return services


def make_home_with_catalog(session, **values) -> Home:
    services = make_catalog(session)
    account = make_home(session, **values)
    session.commit()
    return Home(account=account, **services)
