from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, utcnow
from portal.models.customers import Account


class Login(UserMixin, Base):
    """A personal account identity: one primary account, one password."""

    __tablename__ = "login"

    id: Mapped[int] = mapped_column(primary_key=True)
    primary_account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    must_change_password: Mapped[bool] = mapped_column(default=False)
    enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    password_changed_at: Mapped[datetime | None]
    # None: the portal's defaults (the browser session's language, BABEL_DEFAULT_TIMEZONE).
    language: Mapped[str | None] = mapped_column(String(8))
    timezone: Mapped[str | None] = mapped_column(String(40))

    primary_account: Mapped[Account] = relationship()
    # Set by the user loader: the LoginSession this request runs in.
    web_session = None  # type: portal.domain.auth.SignedInSession | LoginSession | None

    def get_id(self) -> str:
        return "c:" + self.web_session.token


class LoginAccount(Base):
    """Which accounts a login manages (its primary one plus linked ones)."""

    __tablename__ = "login_account"

    login_id: Mapped[int] = mapped_column(ForeignKey("login.id"), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LoginSession(Base):
    """One signed-in device. The cookie carries ``token``; revoking the row ends the session."""

    __tablename__ = "login_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    login_id: Mapped[int] = mapped_column(ForeignKey("login.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    revoked_at: Mapped[datetime | None]

    login: Mapped[Login] = relationship()


class Challenge(Base):
    """A captcha or a one-time code: only its hash is kept; single use; short life."""

    __tablename__ = "challenge"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(24))  # captcha | temp_password
    login_id: Mapped[int | None] = mapped_column(ForeignKey("login.id"), index=True)
    secret_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None]


class PasswordRequest(Base):
    """Every SMS-password request for a number, ours or not.

    Quotas are counted here rather than in the SMS outbox so that a number we do
    not serve runs into the same limits as ours: the answer never tells them apart.
    """

    __tablename__ = "password_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    msisdn: Mapped[str] = mapped_column(String(16))
    ip: Mapped[str | None] = mapped_column(String(45))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    sent: Mapped[bool] = mapped_column(default=False)
    handled_at: Mapped[datetime | None]  # when the job looked the number up (and sent, or not)


class LoginThrottle(Base):
    """Failed logins in a row for one identifier (number or staff e-mail), ours or not."""

    __tablename__ = "login_throttle"

    identifier: Mapped[str] = mapped_column(String(120), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Staff(UserMixin, Base):
    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(120), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(16))  # support | admin
    password_hash: Mapped[str] = mapped_column(String(255))
    enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Signing in takes the password and then a passkey (PORTAL_STAFF_PASSKEY_REQUIRED asks it of everyone).
    passkey_required: Mapped[bool] = mapped_column(default=False, server_default=false())

    web_session = None  # type: StaffSession | None

    def get_id(self) -> str:
        return "s:" + self.web_session.token


class StaffSession(Base):
    __tablename__ = "staff_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    ip: Mapped[str | None] = mapped_column(String(45))
    revoked_at: Mapped[datetime | None]

    staff: Mapped[Staff] = relationship()
