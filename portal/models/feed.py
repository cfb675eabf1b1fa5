from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base, utcnow


class FeedToken(Base):
    """A named, read-only key to a login's balance feed (issue 18, point 6): for home-screen widgets and scripts.

    Only the SHA-256 of the key is kept (the key is 32 random bytes: a hash is enough, and the lookup is one index
    probe); the customer sees the key once, when it is made. Revoked keys stay listed until they are old."""

    __tablename__ = "feed_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    login_id: Mapped[int] = mapped_column(ForeignKey("login.id"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hint: Mapped[str] = mapped_column(String(8))  # the key's first characters, to tell keys apart
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    last_used_ip: Mapped[str | None] = mapped_column(String(45))
    uses: Mapped[int] = mapped_column(default=0)
    revoked_at: Mapped[datetime | None]
