"""Switch commands: queued with the change that needs them, applied after it commits, shown as they stand.

A setting page saves what the customer asked for and queues a command in the same
transaction; the provisioning job (portal.jobs) applies it once the transaction has
committed, so nothing reaches the network for a change that rolled back. The job locks
the command row and acts only on a *pending* one, so a retried job or a second worker
sends it once; the command's id goes with it, so the switch can recognise a repeat after
a crash between its answer and our commit. A command is marked *applied* only on the
switch's yes.
"""
import json
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from portal.domain.accounts import account_of_login
from portal.domain.audit import Actor, record
from portal.domain.errors import DomainError, NotFound
from portal.models import Account, SwitchCommand
from portal.models.switch import SCRUBBED
from portal.provisioning import CommandRefused, SwitchBackend, SwitchUnavailable

# Ids of commands queued in this transaction; an after_commit hook (portal.jobs) hands them to the job.
PENDING_KEY = "switch_pending"
# What a page says about the state of a change.
STATE_LABELS = {
    "pending": _l("being applied in the network"),
    "applied": _l("applied"),
    "failed": _l("failed, try again"),
    "superseded": _l("replaced by a later change"),
}


# How long a worker may take over one switch command before the sweep may send it again; longer than
# the switch's HTTP timeout (PROVISIONING_LEASE in the config).
DEFAULT_LEASE = timedelta(seconds=60)


class RetryRefused(DomainError):
    """Only the latest failed command of a setting can be sent again."""


def queue_command(session: Session, account: Account, *, subject: str, operation: str,
                  params: dict | None = None) -> SwitchCommand:
    """Add a command for the account's line to the caller's transaction."""
    if account.line is None:
        raise NotFound("line")
    command = SwitchCommand(account_id=account.id, msisdn=account.line.msisdn, subject=subject, operation=operation,
                            params=json.dumps(params or {}, sort_keys=True, ensure_ascii=False))
    session.add(command)
    session.flush()
    _send_after_commit(session, command)
    return command


def _send_after_commit(session: Session, command: SwitchCommand) -> None:
    session.info.setdefault(PENDING_KEY, []).append(command.id)


def _has_newer(session: Session, command: SwitchCommand) -> bool:
    """Is there a later command for the same setting? (Each carries its setting's whole state.)"""
    return bool(session.scalar(select(func.count()).select_from(SwitchCommand).where(
        SwitchCommand.account_id == command.account_id, SwitchCommand.subject == command.subject,
        SwitchCommand.id > command.id)))


def apply_command(session: Session, command_id: int, *, backend: SwitchBackend, now: datetime,
                  max_attempts: int, lease: timedelta = DEFAULT_LEASE, final: bool = False) -> str:
    """Send one pending command to the switch; return its new status.

    No database lock is held while the switch thinks: a short transaction claims the command
    for ``lease`` (a second worker, or a sweep, leaves a claimed command alone), the switch is
    called with no transaction open, and another short transaction records its answer. A worker
    that dies mid-call leaves a claim that runs out, and the sweep sends the command again under
    the same id, which the switch recognises as a repeat.

    Raises SwitchUnavailable when the switch could not answer and another try is allowed
    (``final`` says the caller cannot try again: the command is marked failed instead).
    """
    claimed = _claim(session, command_id, now=now, lease=lease)
    if isinstance(claimed, str):
        return claimed
    msisdn, payload, attempts = claimed
    try:
        reference = backend.apply(msisdn, payload)
    except CommandRefused as err:
        return _record(session, command_id, "failed", now, error=str(err))
    except SwitchUnavailable as err:
        if final or attempts >= max_attempts:
            return _record(session, command_id, "failed", now, error=str(err))
        _record(session, command_id, "pending", now, error=str(err))
        raise
    return _record(session, command_id, "applied", now, reference=reference)


def _claim(session: Session, command_id: int, *, now: datetime, lease: timedelta):
    """Take a pending, unclaimed command for ``lease`` and commit: (msisdn, payload, attempts), or its status."""
    # SKIP LOCKED: a row another worker is claiming this instant is its, not ours to wait for.
    command = session.scalar(select(SwitchCommand).where(SwitchCommand.id == command_id)
                             .with_for_update(skip_locked=True).execution_options(populate_existing=True))
    if command is None:
        session.rollback()
        status = session.scalar(select(SwitchCommand.status).where(SwitchCommand.id == command_id))
        session.rollback()
        return status or "missing"
    if command.status != "pending" or (command.claimed_until is not None and command.claimed_until > now):
        status = command.status
        session.rollback()
        return status
    if _has_newer(session, command):  # a later one makes this one pointless
        command.status = "superseded"
        command.finished_at = now
        session.commit()
        return "superseded"
    command.attempts += 1
    command.claimed_until = now + lease
    claimed = (command.msisdn, {"id": f"cmd-{command.id}", "operation": command.operation,
                                "params": json.loads(command.params)}, command.attempts)
    session.commit()
    return claimed


def _record(session: Session, command_id: int, status: str, now: datetime, *, error: str | None = None,
            reference: str | None = None) -> str:
    """The switch's answer, in its own short transaction; the claim ends with it."""
    command = session.get(SwitchCommand, command_id, with_for_update=True, populate_existing=True)
    if command.status != "pending":  # a slow answer after someone else's (a claim that ran out): theirs stands
        status = command.status
        session.rollback()
        return status
    command.claimed_until = None
    if reference is not None:
        command.reference = reference
    if status == "pending":  # the switch did not answer: another try comes later
        command.error = error[:300] if error else None
        session.commit()
        return status
    return _finish(session, command, status, now, error=error)


def _finish(session: Session, command: SwitchCommand, status: str, now: datetime, error: str | None = None) -> str:
    command.params = command.shown_params  # a secret went to the switch once; it is not kept
    command.status = status
    command.error = error[:300] if error else None
    command.finished_at = now
    session.commit()
    return status


def latest(session: Session, account_id: int, subjects) -> dict[str, SwitchCommand]:
    """The newest command of each subject (one query): what the page says about each setting."""
    newest = (select(func.max(SwitchCommand.id)).where(SwitchCommand.account_id == account_id,
                                                       SwitchCommand.subject.in_(list(subjects)))
              .group_by(SwitchCommand.subject))
    rows = session.scalars(select(SwitchCommand).where(SwitchCommand.id.in_(newest))).all()
    return {command.subject: command for command in rows}


def command_of(session: Session, *, login_id: int, command_id: int) -> SwitchCommand:
    """A command for a line this login manages; NotFound for anyone else's."""
    command = session.get(SwitchCommand, command_id)
    if command is None:
        raise NotFound("command")
    account_of_login(session, login_id=login_id, account_id=command.account_id)
    return command


def retry(session: Session, *, account_id: int, command_id: int, actor: Actor, now: datetime) -> bool:
    """Send a failed command again (the latest of its setting only); False when it is not failed any more.

    NOWAIT: a customer's click never queues behind a job recording the switch's answer this instant; on
    PostgreSQL it fails at once with the lock error the web answers as "busy, try again" (portal.web).
    """
    command = session.get(SwitchCommand, command_id, with_for_update={"nowait": True}, populate_existing=True)
    if command is None or command.account_id != account_id:
        session.rollback()
        raise NotFound("command")
    if command.status != "failed":
        session.rollback()
        return False
    if SCRUBBED in json.loads(command.params).values():
        session.rollback()
        raise RetryRefused(_l("This one cannot be sent again: ask for a new one."))
    if _has_newer(session, command):
        session.rollback()
        raise RetryRefused(_l("This change was replaced by a later one."))
    command.status = "pending"
    command.error = None
    command.finished_at = None
    command.claimed_until = None
    _send_after_commit(session, command)
    record(session, actor, "switch_retry", obj=command, account_id=account_id, detail=command.operation)
    session.commit()
    return True


def pending_ids(session: Session, *, older_than: datetime, now: datetime | None = None) -> list[int]:
    """Commands still waiting (their job was lost with a broker outage or a killed worker), not claimed by a
    worker at ``now``: `flask provisioning apply` and the beat's sweep send them again."""
    stmt = select(SwitchCommand.id).where(SwitchCommand.status == "pending", SwitchCommand.created_at < older_than)
    if now is not None:
        stmt = stmt.where(or_(SwitchCommand.claimed_until.is_(None), SwitchCommand.claimed_until <= now))
    return list(session.scalars(stmt.order_by(SwitchCommand.id)))


def log_page(session: Session, *, status: str | None = None, msisdn: str | None = None,
             before_id: int | None = None, size: int = 100) -> list[SwitchCommand]:
    """The provisioning log for staff: newest first, by state and number, ``size`` at a time."""
    stmt = select(SwitchCommand)
    if status:
        stmt = stmt.where(SwitchCommand.status == status)
    if msisdn:
        stmt = stmt.where(SwitchCommand.msisdn == msisdn)
    if before_id:
        stmt = stmt.where(SwitchCommand.id < before_id)
    return list(session.scalars(stmt.order_by(SwitchCommand.id.desc()).limit(size)))
