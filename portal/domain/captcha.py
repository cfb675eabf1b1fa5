"""Image captcha in front of the SMS password (docs/architecture.md §4).

The answer is derived from the challenge token with an HMAC of the secret key,
so the image can be drawn again (a reload, the audio version) while the
database keeps only a hash. A challenge is single use: any check consumes it.
"""
import hashlib
import hmac
import io
import secrets
from datetime import datetime, timedelta

from captcha.audio import AudioCaptcha
from captcha.image import ImageCaptcha
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from portal.domain.errors import DomainError
from portal.models import Challenge

# Upper case (the audio voices exist for it) without 0/O, 1/I, 2/Z, 5/S, 8/B.
ALPHABET = "ACDEFGHJKLMNPQRTUVWXY34679"
PURPOSE = "captcha"


class WrongCaptcha(DomainError):
    field = "captcha"


def answer_for(token: str, *, key: str, length: int) -> str:
    digest = hmac.new(key.encode(), b"captcha:" + token.encode(), hashlib.sha256).digest()
    return "".join(ALPHABET[b % len(ALPHABET)] for b in digest[:length])


def _hash(answer: str) -> str:
    return hashlib.sha256(answer.strip().upper().encode()).hexdigest()


def new_challenge(session: Session, *, key: str, length: int, ttl: timedelta, now: datetime) -> str:
    """Create a challenge and return its token (commits)."""
    token = secrets.token_urlsafe(24)
    session.add(Challenge(token=token, purpose=PURPOSE, secret_hash=_hash(answer_for(token, key=key, length=length)),
                          created_at=now, expires_at=now + ttl))
    # Expired challenges are worthless; clearing them here keeps the table small without a job.
    session.execute(delete(Challenge).where(Challenge.purpose == PURPOSE, Challenge.expires_at < now - ttl))
    session.commit()
    return token


def is_live(session: Session, token: str, *, now: datetime) -> bool:
    challenge = session.scalar(select(Challenge).where(Challenge.token == token, Challenge.purpose == PURPOSE))
    return challenge is not None and challenge.used_at is None and challenge.expires_at > now


def consume(session: Session, *, token: str, answer: str, now: datetime, test_answer: str | None = None) -> None:
    """Check the answer and use the challenge up, right or wrong; raise WrongCaptcha if not passed.

    Flushes but does not commit: the caller's transaction commits the consumption
    together with whatever the captcha guarded.
    """
    # One UPDATE both checks "unused and alive" and marks it used, so two
    # concurrent posts of the same challenge cannot both pass.
    used = session.execute(
        update(Challenge)
        .where(Challenge.token == (token or "")[:64], Challenge.purpose == PURPOSE,
               Challenge.used_at.is_(None), Challenge.expires_at > now)
        .values(used_at=now)
        .returning(Challenge.secret_hash)
    ).scalar()
    if used is None:
        raise WrongCaptcha(_l("The picture has expired. Here is a new one."))
    answer = (answer or "")[:32]
    if test_answer and answer.strip().upper() == test_answer.upper():
        return
    if not hmac.compare_digest(used, _hash(answer)):
        raise WrongCaptcha(_l("The characters do not match the picture. Try this new one."))


def spend(session: Session, *, token: str, now: datetime) -> None:
    """Use a challenge up without checking it: an invalid form was an attempt too (commits)."""
    session.execute(update(Challenge).where(Challenge.token == (token or "")[:64], Challenge.purpose == PURPOSE,
                                            Challenge.used_at.is_(None)).values(used_at=now))
    session.commit()


class LegibleCaptcha(ImageCaptcha):
    # The library's defaults pile five characters onto each other: people misread them,
    # and each wrong answer costs a new picture. Less overlap and tilt; the noise stays.
    word_offset_dx = 0.05
    character_rotate = (-20, 20)


def render_png(answer: str) -> bytes:
    image = LegibleCaptcha(width=220, height=64, font_sizes=(44, 48)).generate_image(answer)
    out = io.BytesIO()
    # A 16-grey palette keeps the picture readable and well under 8 KB for 2G links.
    image.convert("L").convert("P", palette=1, colors=16).save(out, "PNG", optimize=True)
    return out.getvalue()


def render_wav(answer: str) -> bytes:
    return bytes(AudioCaptcha().generate(answer))
