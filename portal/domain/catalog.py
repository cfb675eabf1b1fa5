"""The catalog as staff keep it: tariffs and services created, edited, archived.

Archiving only hides an item from the customers' catalogs; accounts already on
an archived tariff and subscriptions to an archived service carry on untouched.
"""
import re
from contextlib import contextmanager

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, exists, func, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from portal import formatting
from portal.domain.audit import Actor, record
from portal.domain.errors import DomainError, NotFound
from portal.domain.money import BadAmount as InvalidAmount  # noqa: F401 - the forms catch it by this name
from portal.domain.money import format_rubles as format_roubles  # noqa: F401
from portal.domain.money import parse_rubles
from portal.domain.services import CATEGORIES, KINDS
from portal.models import Account, Service, Subscription, Tariff
from portal.models.catalog import service_conflict, service_tariff

TARIFF_KINDS = ("mobile", "home")
SERVICE_KINDS = ("mobile", "home", "tv")
# The tariff kind a service of each kind goes with (a home account takes home and TV services).
TARIFF_KIND_OF = {service_kind: tariff_kind for tariff_kind, kinds in KINDS.items() for service_kind in kinds}
# No fee of ours comes near a million roubles: a bigger number is a typo (and Integer is 32 bits on PostgreSQL).
MAX_FEE = 100_000_000  # kopecks
MAX_PACKAGE = 10_000_000  # minutes, SMS, MMS or megabytes
MAX_DESCRIPTION = 2000
CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,39}", re.ASCII)
PACKAGE = ("minutes", "sms", "mms", "data_mb")
CONNECTION_TYPES = ("fttb", "gpon", "adsl", "docsis")  # as HomeContract.connection_type names them
CHANGE_EFFECTIVE = ("now", "next_period")
MAX_SPEED = 100_000  # Mbit/s


class CatalogRefused(DomainError):
    """A catalog change the rules refuse; ``field`` says which value is wrong."""


# ---- money as staff type it ------------------------------------------------------

def parse_roubles(text: str | None) -> int:
    """A fee as staff type it, at most MAX_FEE."""
    return parse_rubles(text, maximum=MAX_FEE)


# ---- reading ------------------------------------------------------------------------

def all_tariffs(session: Session) -> list[Tariff]:
    return list(session.scalars(select(Tariff).order_by(Tariff.archived, Tariff.kind, Tariff.name)))


def all_services(session: Session) -> list[Service]:
    return list(session.scalars(
        select(Service).options(selectinload(Service.tariffs))
        .order_by(Service.archived, Service.kind, Service.category, Service.name)
    ))


def get_tariff(session: Session, tariff_id: int) -> Tariff:
    tariff = session.get(Tariff, tariff_id)
    if tariff is None:
        raise NotFound("tariff")
    return tariff


def get_service(session: Session, service_id: int) -> Service:
    service = session.scalar(select(Service).where(Service.id == service_id)
                             .options(selectinload(Service.tariffs)))
    if service is None:
        raise NotFound("service")
    return service


def conflicts_of(session: Session, service_id: int) -> list[int]:
    """The services this one cannot be connected with, whichever side the pair was stored from."""
    c = service_conflict.c
    rows = session.execute(select(c.service_id, c.other_id).where(
        or_(c.service_id == service_id, c.other_id == service_id)))
    return sorted({other if mine == service_id else mine for mine, other in rows})


def known_regions(session: Session) -> list[str]:
    """Regions customers live in or tariffs name, for the region field's suggestions."""
    accounts = select(Account.region.label("region")).distinct()
    tariffs = select(Tariff.region.label("region")).where(Tariff.region.is_not(None)).distinct()
    return sorted(set(session.scalars(accounts.union(tariffs))))


# ---- checks ---------------------------------------------------------------------------

def _text(value: str | None, field: str, *, limit: int, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise CatalogRefused(_l("This field is required."), field=field)
    if len(value) > limit:
        raise CatalogRefused(_l("At most %(n)s characters.", n=limit), field=field)
    return value


def _whole(value, field: str, *, limit: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= limit:
        raise CatalogRefused(_l("Enter a whole number from 0 to %(max)s.", max=limit), field=field)
    return value


def _fee(value, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise CatalogRefused(_l("The amount cannot be negative."), field=field)
    if value > MAX_FEE:
        raise CatalogRefused(_l("The amount is too large: at most %(max)s.", max=formatting.money(MAX_FEE, whole=True)),
                             field=field)
    return value


def _code(session: Session, model, code: str | None, *, own_id: int | None) -> str:
    code = (code or "").strip()
    if not CODE.fullmatch(code):
        raise CatalogRefused(_l("A code is up to 40 Latin letters, digits, dots, dashes or underscores."),
                             field="code")
    taken = session.scalar(select(model.id).where(func.lower(model.code) == code.lower()))
    if taken is not None and taken != own_id:
        raise CatalogRefused(_l("This code is already used."), field="code")
    return code


def _tariff_values(session: Session, *, own_id: int | None, code, name, kind, region, monthly_fee, switch_fee,
                   minutes, sms, mms, data_mb, unlimited_data, description, speed_mbps=None, connection_types=(),
                   change_effective="now", pause_monthly_fee=None, name_en=None, description_en=None) -> dict:
    if kind not in TARIFF_KINDS:
        raise CatalogRefused(_l("Choose mobile or home."), field="kind")
    types = connection_types.split(",") if isinstance(connection_types, str) else list(connection_types or ())
    if any(t not in CONNECTION_TYPES for t in types if t):
        raise CatalogRefused(_l("Choose connection types from the list."), field="connection_types")
    if change_effective not in CHANGE_EFFECTIVE:
        raise CatalogRefused(_l("Choose from the list."), field="change_effective")
    if speed_mbps is not None and (isinstance(speed_mbps, bool) or not isinstance(speed_mbps, int)
                                   or not 1 <= speed_mbps <= MAX_SPEED):
        raise CatalogRefused(_l("Enter a whole number from 1 to %(max)s, or leave it empty.", max=MAX_SPEED),
                             field="speed_mbps")
    values = dict(
        code=_code(session, Tariff, code, own_id=own_id),
        name=_text(name, "name", limit=100),
        kind=kind,
        region=_text(region, "region", limit=64, required=False) or None,
        monthly_fee=_fee(monthly_fee, "monthly_fee"),
        switch_fee=_fee(switch_fee, "switch_fee"),
        unlimited_data=bool(unlimited_data),
        description=_text(description, "description", limit=MAX_DESCRIPTION, required=False),
        **_english(name_en, description_en),
        speed_mbps=speed_mbps,
        connection_types=",".join(t for t in CONNECTION_TYPES if t in types),
        change_effective=change_effective,
        pause_monthly_fee=None if pause_monthly_fee is None else _fee(pause_monthly_fee, "pause_monthly_fee"),
    )
    for name_, value in zip(PACKAGE, (minutes, sms, mms, data_mb), strict=True):
        values[name_] = _whole(value, name_, limit=MAX_PACKAGE)
    return values


def _service_values(session: Session, *, own_id: int | None, code, name, category, kind, connection_fee,
                    monthly_fee, refund_unused, description, daily_fee=0, name_en=None, description_en=None) -> dict:
    if kind not in SERVICE_KINDS:
        raise CatalogRefused(_l("Choose mobile, home or TV."), field="kind")
    if category not in CATEGORIES:
        raise CatalogRefused(_l("Choose a category from the list."), field="category")
    return dict(
        code=_code(session, Service, code, own_id=own_id),
        name=_text(name, "name", limit=100),
        category=category,
        kind=kind,
        connection_fee=_fee(connection_fee, "connection_fee"),
        monthly_fee=_fee(monthly_fee, "monthly_fee"),
        daily_fee=_fee(daily_fee or 0, "daily_fee"),
        refund_unused=bool(refund_unused),
        description=_text(description, "description", limit=MAX_DESCRIPTION, required=False),
        **_english(name_en, description_en),
    )


def _english(name_en, description_en) -> dict:
    """The name and description for readers of English; empty: the reader sees the operator's own."""
    return dict(name_en=_text(name_en, "name_en", limit=100, required=False) or None,
                description_en=_text(description_en, "description_en", limit=MAX_DESCRIPTION, required=False) or None)


def _compatible_tariffs(session: Session, tariff_ids, *, kind: str, linked: set[int]) -> list[Tariff]:
    """Non-archived tariffs of the service's kind; a link kept from before may point at an archived one."""
    ids = set(tariff_ids or ())
    tariffs = list(session.scalars(select(Tariff).where(Tariff.id.in_(ids)).order_by(Tariff.id))) if ids else []
    if len(tariffs) != len(ids):
        raise CatalogRefused(_l("Choose tariffs from the list."), field="tariff_ids")
    for tariff in tariffs:
        if tariff.kind != TARIFF_KIND_OF[kind]:
            raise CatalogRefused(_l("“%(name)s” is a tariff of another kind.", name=tariff.name), field="tariff_ids")
        if tariff.archived and tariff.id not in linked:
            raise CatalogRefused(_l("“%(name)s” is archived.", name=tariff.name), field="tariff_ids")
    return tariffs


def _conflicting(session: Session, service_ids, *, own_id: int | None) -> list[int]:
    ids = set(service_ids or ())
    if own_id in ids:
        raise CatalogRefused(_l("A service cannot conflict with itself."), field="conflict_ids")
    found = set(session.scalars(select(Service.id).where(Service.id.in_(ids)))) if ids else set()
    if found != ids:
        raise CatalogRefused(_l("Choose services from the list."), field="conflict_ids")
    return sorted(ids)


def _set_conflicts(session: Session, service_id: int, other_ids: list[int]) -> None:
    """Store each pair once, from this service's side."""
    c = service_conflict.c
    session.execute(delete(service_conflict).where(or_(c.service_id == service_id, c.other_id == service_id)))
    if other_ids:
        session.execute(insert(service_conflict), [{"service_id": service_id, "other_id": o} for o in other_ids])


def _changes(obj, values: dict) -> list[str]:
    """What an edit changes, for the audit detail (the description is named, not copied)."""
    changed = []
    for name, new in values.items():
        old = getattr(obj, name)
        if old != new:
            changed.append(name if name in ("description", "description_en") else f"{name} {old!r} -> {new!r}")
    return changed


@contextmanager
def _unique_code(session: Session):
    """A twin saved at the same moment loses on the unique code, with the same message."""
    try:
        yield
    except IntegrityError:
        session.rollback()
        raise CatalogRefused(_l("This code is already used."), field="code") from None


# ---- tariffs ---------------------------------------------------------------------------

def create_tariff(session: Session, *, actor: Actor, **values) -> Tariff:
    """A new tariff; its code is unique (case aside), every amount in range."""
    checked = _tariff_values(session, own_id=None, **values)
    tariff = Tariff(**checked, archived=False)
    with _unique_code(session):
        session.add(tariff)
        session.flush()
        record(session, actor, "tariff_created", obj=tariff, detail=tariff.code)
        session.commit()
    return tariff


def update_tariff(session: Session, *, tariff_id: int, actor: Actor, **values) -> Tariff:
    """Change a tariff; its kind stays while accounts or services use it (they were checked against it)."""
    tariff = get_tariff(session, tariff_id)
    checked = _tariff_values(session, own_id=tariff.id, **values)
    if checked["kind"] != tariff.kind and (
        session.scalar(select(exists().where(Account.tariff_id == tariff.id)))
        or session.scalar(select(exists().where(service_tariff.c.tariff_id == tariff.id)))
    ):
        raise CatalogRefused(_l("Accounts or services use this tariff: its kind cannot change."), field="kind")
    changes = _changes(tariff, checked)
    if not changes:
        return tariff
    detail = f"{tariff.code}: " + "; ".join(changes)
    with _unique_code(session):
        for name, value in checked.items():
            setattr(tariff, name, value)
        record(session, actor, "tariff_updated", obj=tariff, detail=detail)
        session.commit()
    return tariff


def set_tariff_archived(session: Session, *, tariff_id: int, archived: bool, actor: Actor) -> Tariff:
    """Hide a tariff from the catalog (or offer it again); accounts on it keep it."""
    tariff = get_tariff(session, tariff_id)
    if tariff.archived == archived:
        return tariff
    tariff.archived = archived
    record(session, actor, "tariff_archived" if archived else "tariff_restored", obj=tariff, detail=tariff.code)
    session.commit()
    return tariff


# ---- services --------------------------------------------------------------------------

def create_service(session: Session, *, actor: Actor, tariff_ids=(), conflict_ids=(), **values) -> Service:
    """A new service with the tariffs it works with (none: all of its kind) and the services it excludes."""
    checked = _service_values(session, own_id=None, **values)
    tariffs = _compatible_tariffs(session, tariff_ids, kind=checked["kind"], linked=set())
    others = _conflicting(session, conflict_ids, own_id=None)
    service = Service(**checked, archived=False, tariffs=tariffs)
    with _unique_code(session):
        session.add(service)
        session.flush()
        _set_conflicts(session, service.id, others)
        record(session, actor, "service_created", obj=service, detail=service.code)
        session.commit()
    return service


def update_service(session: Session, *, service_id: int, actor: Actor, tariff_ids=(), conflict_ids=(),
                   **values) -> Service:
    """Change a service; its kind stays while someone has it connected."""
    service = get_service(session, service_id)
    checked = _service_values(session, own_id=service.id, **values)
    if checked["kind"] != service.kind and session.scalar(select(exists().where(
            Subscription.service_id == service.id, Subscription.status == "active"))):
        raise CatalogRefused(_l("Customers have this service connected: its kind cannot change."), field="kind")
    linked = {t.id for t in service.tariffs}
    tariffs = _compatible_tariffs(session, tariff_ids, kind=checked["kind"], linked=linked)
    others = _conflicting(session, conflict_ids, own_id=service.id)
    changes = _changes(service, checked)
    if {t.id for t in tariffs} != linked:
        changes.append(f"tariffs {sorted(linked)} -> {sorted(t.id for t in tariffs)}")
    old_others = conflicts_of(session, service.id)
    if others != old_others:
        changes.append(f"conflicts {old_others} -> {others}")
    if not changes:
        return service
    detail = f"{service.code}: " + "; ".join(changes)
    with _unique_code(session):
        for name, value in checked.items():
            setattr(service, name, value)
        service.tariffs = tariffs
        _set_conflicts(session, service.id, others)
        record(session, actor, "service_updated", obj=service, detail=detail)
        session.commit()
    return service


def set_service_archived(session: Session, *, service_id: int, archived: bool, actor: Actor) -> Service:
    """Hide a service from the catalog (or offer it again); subscriptions to it carry on."""
    service = get_service(session, service_id)
    if service.archived == archived:
        return service
    service.archived = archived
    record(session, actor, "service_archived" if archived else "service_restored", obj=service,
           detail=service.code)
    session.commit()
    return service
