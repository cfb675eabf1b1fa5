"""The rules of a support request: who may open, read and answer it, its states, the overdue rule, and the SMS
to the customer when staff answer (through the SMS alerts, so the account's quiet hours hold it)."""
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from portal.domain import alerts, idempotency
from portal.domain.audit import Actor, record
from portal.domain.errors import DomainError, NotFound
from portal.domain.support import STATES, attachments, topics
from portal.models import Account, SupportAttachment, SupportMessage, SupportRequest

MAX_TEXT = 4000
SUBJECT_LENGTH = 80  # the first words of the first message name the request in lists
QUEUE_VIEWS = ("open", "new", "mine", "waiting", "overdue", "closed", "all")
QUEUE_LIMIT = 100
SMS_TEXT = _l("support answered your request #%(number)s. Read it in your personal account.")


class InvalidRequest(DomainError):
    pass


class TooManyRequests(DomainError):
    status = 429

    def __init__(self, message, retry_after: datetime):
        super().__init__(message)
        self.retry_after = retry_after


class RequestClosed(DomainError):
    status = 409


@dataclass(frozen=True)
class Outcome:
    request_id: int
    done: bool  # False: the same form came again (a double click); nothing new happened


def _clean_text(text: str | None) -> str:
    text = (text or "").replace("\r\n", "\n").strip()
    if not text:
        raise InvalidRequest(_l("Type your message."), field="text")
    if len(text) > MAX_TEXT:
        raise InvalidRequest(_l("At most %(n)s characters.", n=MAX_TEXT), field="text")
    return text


def _subject(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= SUBJECT_LENGTH else line[:SUBJECT_LENGTH - 1].rstrip() + "…"


def _claim(session: Session, key: str | None, *, action: str, account_id: int) -> bool:
    """Claim the form's key; False when this submission was carried out before."""
    if key is None:
        return True
    try:
        idempotency.claim(session, key, action=action, account_id=account_id)
    except idempotency.AlreadyDone:
        return False
    return True


def open_request(session: Session, *, login_id: int, account_id: int, category: str, text: str,
                 idempotency_key: str | None, actor: Actor, now: datetime, per_day: int,
                 picture: attachments.Picture | None = None, files_dir: str | None = None) -> Outcome:
    """A new request about ``account_id`` (one of the login's), with its first message (and its photo, stored
    under ``files_dir``); at most ``per_day`` a day per login."""
    if not topics.is_open_topic(session, category):
        raise InvalidRequest(_l("Choose from the list."), field="category")
    text = _clean_text(text)
    opened = session.scalars(select(SupportRequest.created_at).where(
        SupportRequest.login_id == login_id, SupportRequest.created_at > now - timedelta(days=1))
        .order_by(SupportRequest.created_at)).all()
    if len(opened) >= per_day:
        raise TooManyRequests(_l("You have opened %(n)s requests today.", n=per_day),
                              retry_after=opened[-per_day] + timedelta(days=1))
    if not _claim(session, idempotency_key, action="support_open", account_id=account_id):
        session.rollback()
        return Outcome(0, False)
    request = SupportRequest(account_id=account_id, login_id=login_id, category=category, subject=_subject(text),
                             state="new", created_at=now, updated_at=now, awaiting_since=now)
    session.add(request)
    session.flush()
    message = SupportMessage(request_id=request.id, login_id=login_id, text=text, created_at=now)
    session.add(message)
    return Outcome(request.id, _commit_message(session, message, picture, files_dir, now=now, actor=actor,
                                               action="support_opened", obj=request, detail=category))


def _commit_message(session: Session, message: SupportMessage, picture: attachments.Picture | None,
                    files_dir: str | None, *, now: datetime, actor: Actor, action: str, obj: SupportRequest,
                    detail: str) -> bool:
    """Store the message's picture, write the audit event (naming the picture) and commit: the picture's files
    appear when the rows do, and are removed when they do not."""
    staged = None
    try:
        if picture is not None:
            if not files_dir:
                raise ValueError("a picture needs the attachments folder")
            session.flush()
            attachment, staged = attachments.attach(session, message_id=message.id, picture=picture,
                                                    directory=files_dir, now=now)
            detail = " · ".join(filter(None, (detail, attachments.audit_note(attachment))))
        record(session, actor, action, obj=obj, detail=detail)
        done = idempotency.commit_once(session)
    except BaseException:
        if staged is not None:
            staged.discard()
        raise
    if staged is not None:
        staged.publish() if done else staged.discard()
    return done


def request_of_login(session: Session, request_id: int, login_id: int) -> SupportRequest:
    """The login's own request, or NotFound (another customer's gets the same answer as none)."""
    request = session.get(SupportRequest, request_id)
    if request is None or request.login_id != login_id:
        raise NotFound(_l("No such request."))
    return request


def requests_of_login(session: Session, login_id: int) -> list[SupportRequest]:
    """The login's requests, open ones first, newest first."""
    return list(session.scalars(select(SupportRequest).where(SupportRequest.login_id == login_id)
                                .order_by((SupportRequest.state == "closed"), SupportRequest.id.desc())
                                .limit(QUEUE_LIMIT)))


def thread(session: Session, request_id: int, *, with_notes: bool) -> list[SupportMessage]:
    """The messages of a request, oldest first; internal notes only for staff."""
    stmt = select(SupportMessage).where(SupportMessage.request_id == request_id).options(
        selectinload(SupportMessage.staff), selectinload(SupportMessage.attachments)).order_by(SupportMessage.id)
    if not with_notes:
        stmt = stmt.where(SupportMessage.internal.is_(False))
    return list(session.scalars(stmt))


def thread_version(session: Session, request: SupportRequest, *, with_notes: bool) -> str:
    """What a reader of the thread has seen: its state and its newest message (a new message or a state change
    makes another version; the page asks with the version it shows and gets nothing back while it holds)."""
    stmt = select(func.max(SupportMessage.id)).where(SupportMessage.request_id == request.id)
    if not with_notes:
        stmt = stmt.where(SupportMessage.internal.is_(False))
    return f"{request.state}.{session.scalar(stmt) or 0}"


def _locked(session: Session, request_id: int) -> SupportRequest:
    request = session.get(SupportRequest, request_id, with_for_update=True, populate_existing=True)
    if request is None:
        raise NotFound(_l("No such request."))
    return request


def reply_as_customer(session: Session, *, request_id: int, login_id: int, text: str, idempotency_key: str | None,
                      actor: Actor, now: datetime, picture: attachments.Picture | None = None,
                      files_dir: str | None = None) -> Outcome:
    """The customer's message (and its photo): the request waits for staff again (the overdue clock starts if it
    was stopped)."""
    text = _clean_text(text)
    request = _locked(session, request_id)
    if request.login_id != login_id:
        raise NotFound(_l("No such request."))
    if request.state == "closed":
        raise RequestClosed(_l("The request is closed. Open a new one if you need more help."))
    if not _claim(session, idempotency_key, action="support_reply", account_id=request.account_id):
        session.rollback()
        return Outcome(request_id, False)
    message = SupportMessage(request_id=request.id, login_id=login_id, text=text, created_at=now)
    session.add(message)
    if request.state == "waiting":
        request.state = "in_progress"
    request.awaiting_since = request.awaiting_since or now
    request.updated_at = now
    return Outcome(request_id, _commit_message(session, message, picture, files_dir, now=now, actor=actor,
                                               action="support_customer_replied", obj=request, detail=""))


def close_by_customer(session: Session, *, request_id: int, login_id: int, actor: Actor, now: datetime) -> None:
    """The customer closes their request (closing twice changes nothing)."""
    request = _locked(session, request_id)
    if request.login_id != login_id:
        raise NotFound(_l("No such request."))
    if request.state != "closed":
        _close(request, now)
        record(session, actor, "support_closed", obj=request)
    session.commit()


def _close(request: SupportRequest, now: datetime) -> None:
    request.state, request.closed_at, request.awaiting_since, request.updated_at = "closed", now, None, now


def rate(session: Session, *, request_id: int, login_id: int, rating: int, comment: str | None, actor: Actor,
         now: datetime) -> None:
    """The customer's rating (1–5, and a comment) of a closed request, once."""
    request = _locked(session, request_id)
    if request.login_id != login_id:
        raise NotFound(_l("No such request."))
    if request.state != "closed":
        raise InvalidRequest(_l("Rate the answer once the request is closed."), field="rating")
    if request.rating is not None:
        raise InvalidRequest(_l("You have rated this request already."), field="rating")
    if rating not in range(1, 6):
        raise InvalidRequest(_l("Choose from 1 to 5."), field="rating")
    comment = (comment or "").strip()
    if len(comment) > 500:
        raise InvalidRequest(_l("At most %(n)s characters.", n=500), field="comment")
    request.rating, request.rating_comment, request.updated_at = rating, comment or None, now
    record(session, actor, "support_rated", obj=request, detail=str(rating))
    session.commit()


# ---- staff ----------------------------------------------------------------------------------------------------

def is_overdue(request: SupportRequest, *, now: datetime, response_hours: int) -> bool:
    """Overdue: the customer's message has waited for staff longer than the response time."""
    return (request.state != "closed" and request.awaiting_since is not None
            and request.awaiting_since <= now - timedelta(hours=response_hours))


def queue(session: Session, *, view: str, category: str | None, staff_id: int, now: datetime,
          response_hours: int) -> list[SupportRequest]:
    """The staff queue: one view (open, new, mine, waiting, overdue, closed, all), maybe one category; oldest
    first (overdue: the longest waiting first)."""
    stmt = select(SupportRequest).options(selectinload(SupportRequest.assigned_staff))
    order = SupportRequest.id
    if view == "open":
        stmt = stmt.where(SupportRequest.state != "closed")
    elif view in ("new", "waiting", "closed"):
        stmt = stmt.where(SupportRequest.state == view)
        order = SupportRequest.id.desc() if view == "closed" else order
    elif view == "mine":
        stmt = stmt.where(SupportRequest.assigned_staff_id == staff_id, SupportRequest.state != "closed")
    elif view == "overdue":
        stmt = stmt.where(SupportRequest.state != "closed",
                          SupportRequest.awaiting_since <= now - timedelta(hours=response_hours))
        order = SupportRequest.awaiting_since
    if category:
        stmt = stmt.where(SupportRequest.category == category)
    return list(session.scalars(stmt.order_by(order).limit(QUEUE_LIMIT)))


def queue_counts(session: Session) -> dict[str, int]:
    """How many requests are in each state (the queue's headings)."""
    return dict(session.execute(select(SupportRequest.state, func.count()).group_by(SupportRequest.state)).all())


def requests_of_customer(session: Session, customer_id: int) -> list[SupportRequest]:
    """A customer's requests (on any of their accounts), newest first: the staff customer page."""
    return list(session.scalars(select(SupportRequest).join(Account, Account.id == SupportRequest.account_id)
                                .where(Account.customer_id == customer_id)
                                .order_by(SupportRequest.id.desc()).limit(QUEUE_LIMIT)))


def attachment_of_login(session: Session, attachment_id: int, login_id: int) -> SupportAttachment:
    """A picture on one of the login's own requests (not on an internal note), or NotFound: another customer who
    guesses the number gets the same answer as for none."""
    attachment = session.scalar(
        select(SupportAttachment).join(SupportMessage, SupportMessage.id == SupportAttachment.message_id)
        .join(SupportRequest, SupportRequest.id == SupportMessage.request_id)
        .where(SupportAttachment.id == attachment_id, SupportRequest.login_id == login_id,
               SupportMessage.internal.is_(False)))
    if attachment is None:
        raise NotFound(_l("No such picture."))
    return attachment


def staff_attachment(session: Session, attachment_id: int) -> SupportAttachment:
    attachment = session.get(SupportAttachment, attachment_id)
    if attachment is None:
        raise NotFound(_l("No such picture."))
    return attachment


def staff_request(session: Session, request_id: int) -> SupportRequest:
    request = session.get(SupportRequest, request_id)
    if request is None:
        raise NotFound(_l("No such request."))
    return request


def reply_as_staff(session: Session, *, request_id: int, staff_id: int, text: str, internal: bool,
                   idempotency_key: str | None, actor: Actor, now: datetime) -> Outcome:
    """Staff's answer (the request waits for the customer, who gets an SMS) or an internal note (nothing changes
    for the customer). An unassigned request is assigned to who answers."""
    text = _clean_text(text)
    request = _locked(session, request_id)
    if not _claim(session, idempotency_key, action="support_staff_reply", account_id=request.account_id):
        session.rollback()
        return Outcome(request_id, False)
    session.add(SupportMessage(request_id=request.id, staff_id=staff_id, text=text, internal=internal,
                               created_at=now))
    if request.assigned_staff_id is None:
        request.assigned_staff_id = staff_id
    request.updated_at = now
    if internal:
        record(session, actor, "support_note_added", obj=request, account_id=request.account_id)
    else:
        request.state, request.awaiting_since, request.closed_at = "waiting", None, None
        record(session, actor, "support_answered", obj=request, account_id=request.account_id)
        account = session.get(Account, request.account_id)
        alerts.notify(session, account=account, event="support", message=SMS_TEXT, now=now, number=request.id)
    return Outcome(request_id, idempotency.commit_once(session))


def assign(session: Session, *, request_id: int, staff_id: int | None, actor: Actor, now: datetime) -> None:
    """Take the request (a new one is then in progress), or give it back to the queue (``staff_id`` None)."""
    request = _locked(session, request_id)
    request.assigned_staff_id, request.updated_at = staff_id, now
    if staff_id is not None and request.state == "new":
        request.state = "in_progress"
    record(session, actor, "support_assigned", obj=request, account_id=request.account_id,
           detail=str(staff_id or ""))
    session.commit()


def set_state(session: Session, *, request_id: int, state: str, actor: Actor, now: datetime) -> None:
    """Staff move the request to ``state``; a reopened request waits for staff from now."""
    if state not in STATES:
        raise InvalidRequest(_l("Choose from the list."), field="state")
    request = _locked(session, request_id)
    if request.state == state:
        session.rollback()
        return
    before = request.state
    if state == "closed":
        _close(request, now)
    else:
        request.state, request.closed_at, request.updated_at = state, None, now
        if state == "waiting":
            request.awaiting_since = None
        elif before in ("closed", "waiting"):
            request.awaiting_since = request.awaiting_since or now
    record(session, actor, "support_state_changed", obj=request, account_id=request.account_id,
           detail=f"{before}→{state}")
    session.commit()
