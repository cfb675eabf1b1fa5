"""Which accounts a notice affects.

An address notice names a building (``scope_value``, as staff typed it). Both it and a contract's address are
normalised (``normalise_address``: casefolded, ё as е, punctuation as spaces, "дом" as "д", spaces collapsed),
and the contract is in the building when its normalised address is the building's or starts with it followed
by a space. So "Москва, ул. Профсоюзная, д. 65" covers
"Москва, ул. Профсоюзная, д. 65, корп. 2, кв. 118" but not "…, д. 651". A building number written another way
("дом 65" and "д. 65" are the same; "65к2" and "65, корп. 2" are not) is not recognised: staff copy the
address as the contracts spell it (the staff form suggests them).
"""
import re

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from portal.models import Account, HomeContract, ServiceNotice

SCOPES = ("mobile", "region", "connection", "address")
_PUNCTUATION = re.compile(r"[\s,.;:/\\()«»\"'№#-]+")
# Words that name a flat or an office: a notice is for a building, never one household.
FLAT_WORDS = frozenset({"кв", "квартира", "офис", "оф", "apt", "apartment", "flat", "office", "комн", "комната"})
SAME_WORDS = {"дом": "д", "улица": "ул", "корпус": "корп", "строение": "стр"}


def normalise_address(text: str | None) -> str:
    words = _PUNCTUATION.sub(" ", (text or "").casefold().replace("ё", "е")).split()
    return " ".join(SAME_WORDS.get(word, word) for word in words)


def names_a_flat(address: str) -> bool:
    return any(word in FLAT_WORDS for word in normalise_address(address).split())


def address_in(address: str | None, building: str) -> bool:
    """``address`` (as a contract has it) is in ``building`` (as a notice has it)."""
    normalised, building = normalise_address(address), normalise_address(building)
    return bool(building) and (normalised == building or normalised.startswith(building + " "))


def affects(notice: ServiceNotice, account: Account) -> bool:
    """The notice (a ServiceNotice, or a row of ``reading.notices_for``: scope and scope_value are all it reads) is
    about a service of ``account``: an Account (its home contract loaded), or a mobile line's card
    (portal.domain.accounts.account_cards: kind and region are all a line's notices need)."""
    if notice.scope == "mobile":
        return account.kind == "mobile"
    if notice.scope == "region":
        return account.region == notice.scope_value
    if account.kind != "home" or account.home_contract is None:
        return False
    contract = account.home_contract
    if notice.scope == "connection":
        return contract.connection_type == notice.scope_value
    return address_in(contract.address, notice.scope_value)


def accounts_query(notice: ServiceNotice) -> Select:
    """Accounts that may be affected (ids ascending); address notices are narrowed in Python by ``affects``.

    The building's number (its longest run of digits) narrows an address notice in SQL first: digits have no
    case, so LIKE finds them the same on SQLite and PostgreSQL.
    """
    query = select(Account).where(Account.status != "terminated").order_by(Account.id)
    if notice.scope == "mobile":
        return query.where(Account.kind == "mobile")
    if notice.scope == "region":
        return query.where(Account.region == notice.scope_value)
    query = query.join(HomeContract, HomeContract.account_id == Account.id)
    if notice.scope == "connection":
        return query.where(HomeContract.connection_type == notice.scope_value)
    digits = sorted(re.findall(r"\d+", notice.scope_value), key=len)
    return query.where(HomeContract.address.contains(digits[-1])) if digits else query


def known_connection_types() -> tuple[str, ...]:
    from portal.domain.catalog import CONNECTION_TYPES

    return CONNECTION_TYPES


def building_suggestions(session: Session, limit: int = 200) -> list[str]:
    """Addresses of home contracts without the flat, for the staff form's suggestions."""
    addresses = session.scalars(select(HomeContract.address).distinct().order_by(HomeContract.address).limit(limit))
    buildings = []
    for address in addresses:
        parts = [p.strip() for p in address.split(",")]
        kept = [p for p in parts if not names_a_flat(p)]
        building = ", ".join(kept)
        if building and building not in buildings:
            buildings.append(building)
    return buildings
