"""Support topics and saved answers, managed by admins (issue 17, point 4).

A topic's ``code`` is what a request keeps (``SupportRequest.category``), so it never changes: admins rename,
reorder and retire topics; a retired one leaves the new-request form while its requests keep showing its name.
A saved answer is a text staff insert into a reply and edit before sending; {number} and {name} in it become the
request's number (or contract) and the customer's name.
"""
import re
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.domain import idempotency
from portal.domain.audit import Actor, record
from portal.domain.errors import DomainError, NotFound
from portal.domain.phones import format_msisdn
from portal.models import Account, SavedAnswer, SupportRequest, SupportTopic

CODE = re.compile(r"^[a-z][a-z0-9_-]{1,19}$")
NAME_LENGTH = 80
TITLE_LENGTH = 120
ANSWER_LENGTH = 4000  # an answer is at most a message (requests.MAX_TEXT)
PLACEHOLDERS = ("{number}", "{name}")


class InvalidTopic(DomainError):
    pass


@dataclass(frozen=True)
class Topic:
    """A topic as pages read it (a plain row: lists and forms need no ORM objects)."""

    id: int
    code: str
    name_ru: str
    name_en: str
    position: int
    active: bool

    def name(self, language: str) -> str:
        """The name in ``language``, else the other one (an admin may have given only one)."""
        english = language.split("_")[0] == "en"
        first, other = (self.name_en, self.name_ru) if english else (self.name_ru, self.name_en)
        return first or other


@dataclass(frozen=True)
class Created:
    id: int
    done: bool  # False: the same form came again (a double click); nothing new happened


def all_topics(session: Session) -> list[Topic]:
    """Every topic, retired ones too, in the admins' order: one query."""
    rows = session.execute(select(SupportTopic.id, SupportTopic.code, SupportTopic.name_ru, SupportTopic.name_en,
                                  SupportTopic.position, SupportTopic.active)
                           .order_by(SupportTopic.position, SupportTopic.id))
    return [Topic(*row) for row in rows]


def is_open_topic(session: Session, code: str | None) -> bool:
    """A topic a new request may choose: it exists and is not retired."""
    return bool(code) and bool(session.scalar(select(SupportTopic.active).where(SupportTopic.code == code)))


def _claimed(session: Session, key: str | None, action: str) -> bool:
    if key is None:
        return True
    try:
        idempotency.claim(session, key, action=action, account_id=None)
    except idempotency.AlreadyDone:
        session.rollback()
        return False
    return True


def _names(name_ru: str | None, name_en: str | None) -> tuple[str, str]:
    name_ru, name_en = " ".join((name_ru or "").split()), " ".join((name_en or "").split())
    if not name_ru and not name_en:
        raise InvalidTopic(_l("Name the topic in at least one language."), field="name_ru")
    for field, name in (("name_ru", name_ru), ("name_en", name_en)):
        if len(name) > NAME_LENGTH:
            raise InvalidTopic(_l("At most %(n)s characters.", n=NAME_LENGTH), field=field)
    return name_ru, name_en


def add_topic(session: Session, *, code: str, name_ru: str | None, name_en: str | None,
              idempotency_key: str | None, actor: Actor) -> Created:
    """A new topic, last in the list."""
    code = (code or "").strip().lower()
    if not CODE.match(code):
        raise InvalidTopic(_l("2–20 latin letters, digits, - or _, starting with a letter."), field="code")
    name_ru, name_en = _names(name_ru, name_en)
    # The key first: a double click finds its own topic's code taken, and that is not an error.
    if not _claimed(session, idempotency_key, "support_topic_add"):
        return Created(0, False)
    if session.scalar(select(SupportTopic.id).where(SupportTopic.code == code)):
        session.rollback()
        raise InvalidTopic(_l("A topic with this code exists."), field="code")
    position = (session.scalar(select(func.max(SupportTopic.position))) or 0) + 1
    topic = SupportTopic(code=code, name_ru=name_ru, name_en=name_en, position=position, active=True)
    session.add(topic)
    session.flush()
    record(session, actor, "support_topic_added", obj=topic, detail=code)
    return Created(topic.id, idempotency.commit_once(session))


def _topic(session: Session, topic_id: int) -> SupportTopic:
    topic = session.get(SupportTopic, topic_id, with_for_update=True)
    if topic is None:
        raise NotFound(_l("No such topic."))
    return topic


def topic(session: Session, topic_id: int) -> Topic:
    row = session.get(SupportTopic, topic_id)
    if row is None:
        raise NotFound(_l("No such topic."))
    return Topic(row.id, row.code, row.name_ru, row.name_en, row.position, row.active)


def rename_topic(session: Session, *, topic_id: int, name_ru: str | None, name_en: str | None,
                 actor: Actor) -> None:
    """New names (the code stays: requests keep it)."""
    topic = _topic(session, topic_id)
    name_ru, name_en = _names(name_ru, name_en)
    if (topic.name_ru, topic.name_en) == (name_ru, name_en):
        session.rollback()
        return
    before = topic.name_ru or topic.name_en
    topic.name_ru, topic.name_en = name_ru, name_en
    record(session, actor, "support_topic_renamed", obj=topic, detail=f"{before}→{name_ru or name_en}")
    session.commit()


def move_topic(session: Session, *, topic_id: int, direction: str, actor: Actor) -> None:
    """One place up or down the list (the first stays first). Positions are renumbered 1…n on the way, so
    equal or sparse positions from older rows never block a move."""
    if direction not in ("up", "down"):
        raise InvalidTopic(_l("Choose from the list."), field="direction")
    topics = list(session.scalars(select(SupportTopic).order_by(SupportTopic.position, SupportTopic.id)
                                  .with_for_update()))
    index = next((i for i, t in enumerate(topics) if t.id == topic_id), None)
    if index is None:
        raise NotFound(_l("No such topic."))
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(topics):
        session.rollback()
        return
    topics[index], topics[other] = topics[other], topics[index]
    for position, each in enumerate(topics, start=1):
        each.position = position
    record(session, actor, "support_topic_moved", obj=topics[other], detail=direction)
    session.commit()


def set_topic_active(session: Session, *, topic_id: int, active: bool, actor: Actor) -> None:
    """Retire a topic (new requests cannot choose it; old ones keep its name) or restore it."""
    topic = _topic(session, topic_id)
    if topic.active == active:
        session.rollback()
        return
    topic.active = active
    record(session, actor, "support_topic_restored" if active else "support_topic_retired", obj=topic,
           detail=topic.code)
    session.commit()


# ---- saved answers ---------------------------------------------------------------------------------------------

def saved_answers(session: Session) -> list[SavedAnswer]:
    """Every saved answer, by title."""
    return list(session.scalars(select(SavedAnswer).order_by(func.lower(SavedAnswer.title), SavedAnswer.id)))


def answer_choices(session: Session, category: str | None = None) -> list[tuple[int, str]]:
    """(id, title) of the saved answers staff may insert: the request's topic's first, then those of no topic,
    then the others."""
    rows = session.execute(select(SavedAnswer.id, SavedAnswer.title, SupportTopic.code)
                           .outerjoin(SupportTopic, SupportTopic.id == SavedAnswer.topic_id)
                           .order_by(func.lower(SavedAnswer.title), SavedAnswer.id)).all()
    rank = {category: 0, None: 1}
    return [(id_, title) for id_, title, _code in sorted(rows, key=lambda r: rank.get(r.code, 2))]


def saved_answer(session: Session, answer_id: int) -> SavedAnswer:
    answer = session.get(SavedAnswer, answer_id)
    if answer is None:
        raise NotFound(_l("No such saved answer."))
    return answer


def _answer_values(session: Session, title: str | None, text: str | None,
                   topic_id: int | None) -> tuple[str, str, int | None]:
    title = " ".join((title or "").split())
    text = (text or "").replace("\r\n", "\n").strip()
    if not title:
        raise InvalidTopic(_l("Give the answer a title."), field="title")
    if len(title) > TITLE_LENGTH:
        raise InvalidTopic(_l("At most %(n)s characters.", n=TITLE_LENGTH), field="title")
    if not text:
        raise InvalidTopic(_l("Type the text."), field="text")
    if len(text) > ANSWER_LENGTH:
        raise InvalidTopic(_l("At most %(n)s characters.", n=ANSWER_LENGTH), field="text")
    if topic_id is not None and session.get(SupportTopic, topic_id) is None:
        raise InvalidTopic(_l("Choose from the list."), field="topic_id")
    return title, text, topic_id


def add_answer(session: Session, *, title: str, text: str, topic_id: int | None, idempotency_key: str | None,
               actor: Actor, now: datetime) -> Created:
    title, text, topic_id = _answer_values(session, title, text, topic_id)
    if not _claimed(session, idempotency_key, "saved_answer_add"):
        return Created(0, False)
    answer = SavedAnswer(title=title, text=text, topic_id=topic_id, updated_at=now)
    session.add(answer)
    session.flush()
    record(session, actor, "saved_answer_added", obj=answer, detail=title)
    return Created(answer.id, idempotency.commit_once(session))


def change_answer(session: Session, *, answer_id: int, title: str, text: str, topic_id: int | None, actor: Actor,
                  now: datetime) -> None:
    answer = session.get(SavedAnswer, answer_id, with_for_update=True)
    if answer is None:
        raise NotFound(_l("No such saved answer."))
    title, text, topic_id = _answer_values(session, title, text, topic_id)
    if (answer.title, answer.text, answer.topic_id) == (title, text, topic_id):
        session.rollback()
        return
    answer.title, answer.text, answer.topic_id, answer.updated_at = title, text, topic_id, now
    record(session, actor, "saved_answer_changed", obj=answer, detail=title)
    session.commit()


def delete_answer(session: Session, *, answer_id: int, actor: Actor) -> None:
    """Delete a saved answer (answers already sent keep their text: they were copied). Twice is harmless."""
    answer = session.get(SavedAnswer, answer_id, with_for_update=True)
    if answer is None:
        session.rollback()
        return
    record(session, actor, "saved_answer_deleted", obj=answer, detail=answer.title)
    session.delete(answer)
    session.commit()


def fill(text: str, *, number: str, name: str) -> str:
    """The placeholders replaced; any other braces stay as typed (no str.format: a stray { must not fail)."""
    return text.replace("{number}", number).replace("{name}", name)


def answer_for_request(session: Session, *, answer_id: int, request_id: int) -> str:
    """A saved answer's text filled for one request: its number (or contract) and its customer's name."""
    answer = saved_answer(session, answer_id)
    request = session.get(SupportRequest, request_id)
    if request is None:
        raise NotFound(_l("No such request."))
    account = session.get(Account, request.account_id)
    number = (format_msisdn(account.line.msisdn) if account.line
              else account.home_contract.contract_no if account.home_contract else "")
    return fill(answer.text, number=number, name=account.customer.name)
