import json
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, utcnow

# Params named with this prefix (a voicemail PIN) are never shown, and are blanked once the switch has answered.
SECRET_PREFIX = "secret_"
SCRUBBED = "***"


class SwitchCommand(Base):
    """One change sent to the network's switch for a line: the provisioning log.

    Saved as *pending* in the customer's transaction; the provisioning job moves it to
    *applied* or *failed* (a failed one may be retried), or to *superseded* when a newer
    command for the same subject came first and this one is no longer worth sending.
    """

    __tablename__ = "switch_command"
    __table_args__ = (Index("ix_switch_command_subject", "account_id", "subject", "id"),
                      Index("ix_switch_command_created", "created_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    msisdn: Mapped[str] = mapped_column(String(16))
    # What the command sets, e.g. "forwarding:busy", "blacklist", "line": the page shows the latest per subject.
    subject: Mapped[str] = mapped_column(String(60))
    operation: Mapped[str] = mapped_column(String(40))
    params: Mapped[str] = mapped_column(Text, default="{}")  # JSON
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending | applied | failed | superseded
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(String(300))
    reference: Mapped[str | None] = mapped_column(String(80))  # the switch's id for the change
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    # While a worker waits for the switch: no other worker or sweep sends the command before this.
    claimed_until: Mapped[datetime | None]

    account: Mapped["Account"] = relationship()  # noqa: F821

    @property
    def shown_params(self) -> str:
        """The params as staff may see them: secrets masked."""
        params = json.loads(self.params or "{}")
        return json.dumps({k: SCRUBBED if k.startswith(SECRET_PREFIX) else v for k, v in params.items()},
                          sort_keys=True, ensure_ascii=False)


class ForwardingRule(Base):
    """Where calls to a line go under one condition (the switch holds the truth; this is what we asked for)."""

    __tablename__ = "forwarding_rule"
    __table_args__ = (UniqueConstraint("account_id", "condition", name="one_per_condition"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    condition: Mapped[str] = mapped_column(String(16))  # always | busy | no_answer | unreachable
    target: Mapped[str | None] = mapped_column(String(16))  # E.164
    enabled: Mapped[bool] = mapped_column(default=False)
    seconds: Mapped[int | None]  # no_answer only: ring this long first
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class BlacklistEntry(Base):
    """A number whose calls and SMS to the line are rejected by the switch."""

    __tablename__ = "blacklist_entry"
    __table_args__ = (UniqueConstraint("account_id", "msisdn", name="once_per_line"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    msisdn: Mapped[str] = mapped_column(String(16))  # E.164
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Melody(Base):
    """A ringback melody: a service of the "ringback" category (its price a day) and how it sounds."""

    __tablename__ = "melody"

    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"), primary_key=True)
    artist: Mapped[str] = mapped_column(String(100), default="")
    # The tune for the preview: notes with lengths in eighths, e.g. "E5:2 D5:1 C5:1 R:2" (R is a rest).
    tune: Mapped[str] = mapped_column(Text, default="")

    service: Mapped["Service"] = relationship()  # noqa: F821


class RingbackChoice(Base):
    """The melody callers hear instead of the ringing tone: for every caller ("") or for one number."""

    __tablename__ = "ringback_choice"
    __table_args__ = (UniqueConstraint("account_id", "caller", name="one_per_caller"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    caller: Mapped[str] = mapped_column(String(16), default="")  # E.164, or "" for every caller
    melody_id: Mapped[int] = mapped_column(ForeignKey("melody.service_id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    melody: Mapped[Melody] = relationship()
