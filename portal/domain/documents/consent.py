"""Documents a customer accepts with an SMS code: the terms of service, consent to processing personal data.

The customer reads the newest version, asks for a code (to the login's own number), and types it. The
acceptance keeps what proves it: the login, the time, the address it came from, the SHA-256 of the exact text
accepted, the code's hash and the number the code went to. A document is never edited: staff publish a new
version, which the customers accept again; staff can show any acceptance with the exact text it was of.
"""
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime

from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from portal.domain import auth, sms_codes
from portal.domain.audit import Actor, record
from portal.domain.errors import DomainError, NotFound
from portal.models import Account, DocumentAcceptance, Login, PolicyDocument

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")


def body_hash(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


class DocumentChanged(DomainError):
    """A newer version was published while the customer was reading: they must read it first."""

    field = None


class BadDocument(DomainError):
    field = "slug"


def _purpose(document: PolicyDocument) -> str:
    return f"accept:{document.id}"


def current_documents(session: Session) -> list[PolicyDocument]:
    """The newest version of each document, by title."""
    newest = select(PolicyDocument.slug, func.max(PolicyDocument.version).label("version")) \
        .group_by(PolicyDocument.slug).subquery()
    return list(session.scalars(select(PolicyDocument).join(
        newest, (newest.c.slug == PolicyDocument.slug) & (newest.c.version == PolicyDocument.version))
        .order_by(PolicyDocument.title)))


def current(session: Session, slug: str) -> PolicyDocument:
    document = session.scalar(select(PolicyDocument).where(PolicyDocument.slug == (slug or "")[:40])
                              .order_by(PolicyDocument.version.desc()).limit(1))
    if document is None:
        raise NotFound("document")
    return document


def acceptances_of(session: Session, login_id: int) -> dict[int, DocumentAcceptance]:
    """The login's acceptances by document (version) id."""
    return {a.document_id: a for a in session.scalars(select(DocumentAcceptance)
                                                      .where(DocumentAcceptance.login_id == login_id))}


def send_code(session: Session, *, login_id: int, document_id: int, actor: Actor, now: datetime,
              policy: auth.AuthPolicy) -> str:
    """A code by SMS for accepting this version; returns the number it went to."""
    login = session.get(Login, login_id)
    document = _still_current(session, document_id)

    def text(code: str) -> str:
        with force_locale(login.language or policy.sms_locale):
            return gettext("%(brand)s: code %(code)s to accept «%(title)s» (version %(version)s). If it is not you, "
                           "ignore this SMS.", brand=policy.brand, code=code, title=document.title[:60],
                           version=document.version)

    phone = sms_codes.send(session, login=login, purpose=_purpose(document), text=text, now=now)
    record(session, actor, "document_code_sent", obj=document, detail=f"{document.slug} v{document.version}")
    session.commit()
    return phone


def _still_current(session: Session, document_id: int) -> PolicyDocument:
    document = session.get(PolicyDocument, document_id)
    if document is None:
        raise NotFound("document")
    if current(session, document.slug).id != document.id:
        raise DocumentChanged(_l("The document has changed since you opened it. Read the new version."))
    return document


def accept(session: Session, *, login_id: int, document_id: int, code: str, ip: str | None, actor: Actor,
           now: datetime, policy: auth.AuthPolicy) -> DocumentAcceptance:
    """Check the code, then record the acceptance of exactly this version (once: accepting again answers the
    first)."""
    document = _still_current(session, document_id)
    existing = session.scalar(select(DocumentAcceptance).where(DocumentAcceptance.document_id == document.id,
                                                               DocumentAcceptance.login_id == login_id))
    if existing is not None:
        return existing
    challenge = sms_codes.use(session, login_id=login_id, purpose=_purpose(document), code=code, now=now,
                              policy=policy)
    if body_hash(document.body) != document.body_hash:  # the stored text must be the published one
        raise DocumentChanged(_l("The document cannot be accepted now. Try again later."))
    acceptance = DocumentAcceptance(document_id=document.id, login_id=login_id, accepted_at=now,
                                    ip=(ip or "")[:45] or None, document_hash=document.body_hash,
                                    code_hash=challenge.secret_hash,
                                    phone=sms_codes.code_phone(session.get(Login, login_id)) or "")
    session.add(acceptance)
    record(session, actor, "document_accepted", obj=document, detail=f"{document.slug} v{document.version}")
    session.commit()
    return acceptance


def publish(session: Session, *, slug: str, title: str, body: str, actor: Actor, now: datetime) -> PolicyDocument:
    """A new version of ``slug`` (the first when new); the text is kept as typed, with its hash."""
    slug = (slug or "").strip().lower()
    if not SLUG.match(slug):
        raise BadDocument(_l("Latin letters, digits and dashes, 2 to 40 characters."))
    body = (body or "").replace("\r\n", "\n").strip()
    previous = session.scalar(select(func.max(PolicyDocument.version)).where(PolicyDocument.slug == slug)) or 0
    document = PolicyDocument(slug=slug, version=previous + 1, title=title.strip()[:200], body=body,
                              body_hash=body_hash(body), published_at=now, published_by=actor.staff_id)
    session.add(document)
    session.flush()
    record(session, actor, "document_published", obj=document, detail=f"{slug} v{document.version}")
    session.commit()
    return document


@dataclass(frozen=True)
class Proof:
    acceptance: DocumentAcceptance
    document: PolicyDocument
    text_matches: bool  # the stored text still hashes to what was accepted


def proof(session: Session, acceptance_id: int) -> Proof:
    acceptance = session.get(DocumentAcceptance, acceptance_id)
    if acceptance is None:
        raise NotFound("acceptance")
    document = acceptance.document
    return Proof(acceptance, document, body_hash(document.body) == acceptance.document_hash)


def acceptances_of_customer(session: Session, customer_id: int) -> list[DocumentAcceptance]:
    """What the logins of the customer's accounts accepted, newest first (the staff customer page)."""
    logins = select(Login.id).join(Account, Account.id == Login.primary_account_id) \
        .where(Account.customer_id == customer_id)
    return list(session.scalars(select(DocumentAcceptance).where(DocumentAcceptance.login_id.in_(logins))
                                .options(selectinload(DocumentAcceptance.document))
                                .order_by(DocumentAcceptance.accepted_at.desc())))


def all_versions(session: Session) -> list[tuple[PolicyDocument, int]]:
    """Every version of every document with how many logins accepted it (the staff page), newest first."""
    counts = select(DocumentAcceptance.document_id, func.count().label("n")) \
        .group_by(DocumentAcceptance.document_id).subquery()
    return [(document, n or 0) for document, n in session.execute(
        select(PolicyDocument, counts.c.n).outerjoin(counts, counts.c.document_id == PolicyDocument.id)
        .order_by(PolicyDocument.slug, PolicyDocument.version.desc()))]
