from dataclasses import dataclass

from sqlalchemy.orm import Session

from portal.models import AuditEvent


@dataclass(frozen=True)
class Actor:
    """Who acts: a customer's login, a staff member or the system, and from where."""

    login_id: int | None = None
    staff_id: int | None = None
    account_id: int | None = None  # the account acted as (the line in focus)
    ip: str | None = None


SYSTEM = Actor()


def record(session: Session, actor: Actor, action: str, *, obj=None, detail: str = "", **overrides) -> AuditEvent:
    """Add an audit event to the session; the caller's transaction commits it."""
    values = dict(
        action=action,
        login_id=actor.login_id,
        staff_id=actor.staff_id,
        account_id=actor.account_id,
        ip=actor.ip,
        detail=detail,
    )
    if obj is not None:
        values["object_type"] = type(obj).__tablename__
        values["object_id"] = str(getattr(obj, "id", None) or getattr(obj, "account_id", ""))
    values.update(overrides)
    event = AuditEvent(**values)
    session.add(event)
    return event
