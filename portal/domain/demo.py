"""Demo data for development: realistic, idempotent."""
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import Account, Customer, LedgerEntry, Line, Tariff


def seed_demo(session: Session) -> str:
    if session.scalar(select(Customer.id).where(Customer.contract_no == "DEMO-0001")):
        return "Demo data already present."
    tariff = Tariff(code="demo-smart", name="Smart", kind="mobile", monthly_fee=55000, minutes=500, sms=500,
                    data_mb=15360)
    session.add(tariff)
    customer = Customer(name="Anna Petrova", region="Moscow", contract_no="DEMO-0001")
    account = Account(customer=customer, kind="mobile", region="Moscow", tariff=tariff, balance=34550)
    session.add_all([customer, account, Line(account=account, msisdn="+79161234567")])
    session.flush()
    session.add(LedgerEntry(account_id=account.id, amount=34550, kind="adjustment", description="Opening balance"))
    session.commit()
    return "Demo data loaded."
