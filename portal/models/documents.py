from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, utcnow


class PolicyDocument(Base):
    """A text customers accept with an SMS code (the terms of service, consent to processing personal data).

    Versions are never edited: a change is a new version under the same slug, and only the newest one is
    offered. ``body_hash`` (SHA-256 of the body) is what an acceptance records.
    """

    __tablename__ = "policy_document"
    __table_args__ = (UniqueConstraint("slug", "version", name="uq_policy_document_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40))
    version: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    body_hash: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))


class DocumentAcceptance(Base):
    """The proof that a login accepted a version of a document: when, from where, the text's hash, the SMS code's
    hash and the number the code went to."""

    __tablename__ = "document_acceptance"
    __table_args__ = (UniqueConstraint("document_id", "login_id", name="uq_document_acceptance_login"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("policy_document.id"))
    login_id: Mapped[int] = mapped_column(ForeignKey("login.id"), index=True)
    accepted_at: Mapped[datetime] = mapped_column(default=utcnow)
    ip: Mapped[str | None] = mapped_column(String(45))
    document_hash: Mapped[str] = mapped_column(String(64))
    code_hash: Mapped[str] = mapped_column(String(255))
    phone: Mapped[str] = mapped_column(String(20))  # where the code was sent

    document: Mapped[PolicyDocument] = relationship()
