"""Passkeys (issue 18, point 1): WebAuthn credentials a customer or a staff member signs in with, instead of an SMS
password (customers) or as the second step after the password (staff who must).

The portal keeps only each credential's public key; the browser and the person's device do the rest. Every
ceremony starts with a challenge kept server-side (a ``Challenge`` row, its token in the person's cookie session):
one use, a few minutes of life. User verification (the device's PIN, fingerprint or face) is required, so a
passkey alone is a full sign-in, not just "something you have". A sign count that goes backwards is refused: two
devices are using one copied key.
"""
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from hashlib import sha256
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from portal.domain import alerts
from portal.domain.audit import Actor, record
from portal.domain.auth import SWITCHED_OFF
from portal.domain.errors import DomainError, NotFound
from portal.models import Account, Challenge, Login, Passkey, Staff

MAX_PER_OWNER = 10
NAME_LENGTH = 60
CHALLENGE_TTL = timedelta(minutes=5)
TIMEOUT_MS = 120_000  # what the browser waits for the person: less than the challenge lives
REGISTER, SIGN_IN = "passkey_register", "passkey_sign_in"
REGISTRATION_OPTIONS_LIMIT = "10 per minute"  # adding a passkey takes one; a retry or two at most
KNOWN_TRANSPORTS = {t.value for t in AuthenticatorTransport}


class PasskeyRefused(DomainError):
    """The passkey could not be added, or a sign-in with it failed (the message says which, not why in detail)."""

    field = "name"


class ChallengeExpired(DomainError):
    field = "name"


class TooManyPasskeys(DomainError):
    field = "name"


@dataclass(frozen=True)
class RelyingParty:
    """Who the passkeys belong to: the site's domain (RP id) and the exact origin pages are served from."""

    id: str
    origin: str
    name: str

    @classmethod
    def from_settings(cls, *, rp_id: str | None, origin: str | None, public_url: str | None, host_url: str | None,
                      name: str) -> "RelyingParty | None":
        """Configured values first, then the public address; the request's own address only where the caller
        allows it (debug and tests). None: passkeys are off (a Host header alone is not trusted in production)."""
        origin = origin or (public_url or host_url or "").rstrip("/") or None
        if origin:
            origin = "{0.scheme}://{0.netloc}".format(urlsplit(origin))
        rp_id = rp_id or (urlsplit(origin).hostname if origin else None)
        if not rp_id or not origin:
            return None
        return cls(id=rp_id, origin=origin, name=name)


@dataclass(frozen=True)
class Owner:
    """Whose passkeys: a customer's login or a staff member."""

    login_id: int | None = None
    staff_id: int | None = None

    def clause(self):
        if self.login_id is not None:
            return Passkey.login_id == self.login_id
        return Passkey.staff_id == self.staff_id

    def owns(self, passkey: Passkey) -> bool:
        return ((self.login_id is not None and passkey.login_id == self.login_id)
                or (self.staff_id is not None and passkey.staff_id == self.staff_id))


def user_handle(owner: Owner, *, key: str) -> bytes:
    """The WebAuthn user.id: stable per owner (one passkey per device and site replaces the last), says nothing of
    who it is (the spec forbids personal data there)."""
    kind = f"login:{owner.login_id}" if owner.login_id is not None else f"staff:{owner.staff_id}"
    return hmac.new(key.encode(), kind.encode(), sha256).digest()[:32]


def passkeys_of(session: Session, owner: Owner) -> list[Passkey]:
    return list(session.scalars(select(Passkey).where(owner.clause()).order_by(Passkey.created_at, Passkey.id)))


def count_of(session: Session, owner: Owner) -> int:
    return session.scalar(select(func.count()).select_from(Passkey).where(owner.clause()))


def _descriptors(passkeys: list[Passkey]) -> list[PublicKeyCredentialDescriptor]:
    return [PublicKeyCredentialDescriptor(
        id=base64url_to_bytes(p.credential_id),
        transports=[AuthenticatorTransport(t) for t in p.transports.split(",") if t in KNOWN_TRANSPORTS] or None)
        for p in passkeys]


def _new_challenge(session: Session, *, purpose: str, login_id: int | None, now: datetime) -> tuple[str, bytes]:
    # Each new challenge clears the long-dead ones, as captchas do: the table stays small without a job.
    session.execute(delete(Challenge).where(Challenge.purpose.in_((REGISTER, SIGN_IN)),
                                            Challenge.expires_at < now - CHALLENGE_TTL))
    challenge = secrets.token_bytes(32)
    token = secrets.token_urlsafe(32)
    # A WebAuthn challenge is a nonce, not a secret (the authenticator's signature over it is the proof), so it is
    # kept as it is: it must be handed back to the verifier.
    session.add(Challenge(token=token, purpose=purpose, login_id=login_id, secret_hash=bytes_to_base64url(challenge),
                          created_at=now, expires_at=now + CHALLENGE_TTL))
    return token, challenge


def _use_challenge(session: Session, *, token: str | None, purpose: str, now: datetime) -> Challenge:
    """Spend the challenge (committed at once: a failed verification spends it too), or refuse."""
    spent = session.execute(
        update(Challenge).where(Challenge.token == (token or ""), Challenge.purpose == purpose,
                                Challenge.used_at.is_(None)).values(used_at=now)
    ).rowcount
    session.commit()
    row = session.scalar(select(Challenge).where(Challenge.token == (token or ""))) if spent else None
    if row is None or row.expires_at <= now:
        raise ChallengeExpired(_l("The passkey request has expired or was already used. Try again."))
    return row


def registration_options(session: Session, *, owner: Owner, rp: RelyingParty, user_name: str, display_name: str,
                         handle_key: str, now: datetime) -> tuple[str, str]:
    """A challenge token (for the caller's session) and the options for ``navigator.credentials.create``."""
    existing = passkeys_of(session, owner)
    if len(existing) >= MAX_PER_OWNER:
        raise TooManyPasskeys(_l("You already have %(count)s passkeys: remove one first.", count=MAX_PER_OWNER))
    token, challenge = _new_challenge(session, purpose=REGISTER, login_id=owner.login_id, now=now)
    options = generate_registration_options(
        rp_id=rp.id, rp_name=rp.name, user_id=user_handle(owner, key=handle_key), user_name=user_name,
        user_display_name=display_name, challenge=challenge, timeout=TIMEOUT_MS,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,  # discoverable: sign-in needs no number typed
            user_verification=UserVerificationRequirement.REQUIRED),
        exclude_credentials=_descriptors(existing))
    session.commit()
    return token, options_to_json(options)


def _credential_json(response) -> str:
    return response if isinstance(response, str) else json.dumps(response)


def register(session: Session, *, owner: Owner, token: str | None, response, name: str, rp: RelyingParty,
             handle_key: str, actor: Actor, now: datetime, account: Account | None = None) -> Passkey:
    """Verify the browser's answer to the registration options and keep the new passkey; the customer's number
    (``account``) is told by SMS."""
    name = " ".join((name or "").split())[:NAME_LENGTH]
    if not name:
        raise PasskeyRefused(_l("Name the passkey, for example after the phone it is on."))
    challenge = _use_challenge(session, token=token, purpose=REGISTER, now=now)
    if challenge.login_id != owner.login_id:
        raise ChallengeExpired(_l("The passkey request has expired or was already used. Try again."))
    try:
        verified = verify_registration_response(
            credential=_credential_json(response), expected_challenge=base64url_to_bytes(challenge.secret_hash),
            expected_rp_id=rp.id, expected_origin=rp.origin, require_user_verification=True)
    except (WebAuthnException, ValueError, KeyError, TypeError) as err:
        record(session, actor, "passkey_refused", detail=str(err)[:200])
        session.commit()
        raise PasskeyRefused(_l("The device did not confirm the passkey. Try again.")) from err
    credential_id = bytes_to_base64url(verified.credential_id)
    if session.scalar(select(Passkey.id).where(Passkey.credential_id == credential_id)) is not None:
        raise PasskeyRefused(_l("This passkey is already added."))
    if count_of(session, owner) >= MAX_PER_OWNER:
        raise TooManyPasskeys(_l("You already have %(count)s passkeys: remove one first.", count=MAX_PER_OWNER))
    passkey = Passkey(login_id=owner.login_id, staff_id=owner.staff_id, credential_id=credential_id,
                      user_handle=bytes_to_base64url(user_handle(owner, key=handle_key)),
                      public_key=verified.credential_public_key, sign_count=verified.sign_count,
                      transports=",".join(_transports(response)), name=name, created_at=now)
    session.add(passkey)
    session.flush()
    record(session, actor, "passkey_added", obj=passkey, detail=name)
    if account is not None:
        alerts.notify(session, account=account, event=alerts.SECURITY, now=now, name=name,
                      message=_l("a passkey \"%(name)s\" was added to your personal account. If it was not you, "
                                 "call %(support)s."))
    session.commit()
    return passkey


def _transports(response) -> list[str]:
    try:
        data = json.loads(response) if isinstance(response, str) else response
        given = data["response"].get("transports") or []
    except (ValueError, KeyError, TypeError, AttributeError):
        return []
    return [t for t in given if t in KNOWN_TRANSPORTS][:6]


def authentication_options(session: Session, *, rp: RelyingParty, now: datetime,
                           owner: Owner | None = None) -> tuple[str, str]:
    """A challenge token and the options for ``navigator.credentials.get``: any discoverable passkey of this site
    (the customer's sign-in), or only the owner's (the staff's second step)."""
    token, challenge = _new_challenge(session, purpose=SIGN_IN, login_id=None, now=now)
    allowed = _descriptors(passkeys_of(session, owner)) if owner is not None else []
    options = generate_authentication_options(rp_id=rp.id, challenge=challenge, timeout=TIMEOUT_MS,
                                              allow_credentials=allowed,
                                              user_verification=UserVerificationRequirement.REQUIRED)
    session.commit()
    return token, options_to_json(options)


def authenticate(session: Session, *, token: str | None, response, rp: RelyingParty, ip: str | None,
                 now: datetime, staff_id: int | None = None) -> Passkey:
    """Check the browser's assertion; the passkey that signed it (a customer's, or ``staff_id``'s). Any failure
    reads the same: nothing tells whether a passkey is known here."""
    challenge = _use_challenge(session, token=token, purpose=SIGN_IN, now=now)
    refused = PasskeyRefused(_l("This passkey did not sign you in. Try again, or sign in with the number and "
                                "password."))
    try:
        data = json.loads(response) if isinstance(response, str) else response
        credential_id = str(data["id"])[:1400]
        given_handle = (data.get("response") or {}).get("userHandle")
    except (ValueError, KeyError, TypeError, AttributeError):
        raise refused from None
    passkey = session.scalar(select(Passkey).where(Passkey.credential_id == credential_id))
    belongs = passkey is not None and (passkey.staff_id == staff_id if staff_id is not None
                                       else passkey.login_id is not None)
    if not belongs or (given_handle and given_handle != passkey.user_handle):
        record(session, Actor(ip=ip), "passkey_login_failed", detail="unknown passkey")
        session.commit()
        raise refused
    actor = Actor(login_id=passkey.login_id, staff_id=passkey.staff_id, ip=ip)
    try:
        verified = verify_authentication_response(
            credential=_credential_json(response), expected_challenge=base64url_to_bytes(challenge.secret_hash),
            expected_rp_id=rp.id, expected_origin=rp.origin, credential_public_key=passkey.public_key,
            credential_current_sign_count=passkey.sign_count, require_user_verification=True)
    except (WebAuthnException, ValueError, KeyError, TypeError) as err:
        record(session, actor, "passkey_login_failed", obj=passkey, detail=str(err)[:200])
        session.commit()
        raise refused from err
    passkey.sign_count = verified.new_sign_count
    passkey.last_used_at = now
    session.flush()
    return passkey


def sign_in_customer(session: Session, *, token: str | None, response, rp: RelyingParty, ip: str | None,
                     now: datetime) -> Login:
    """The login a customer's passkey opens, with the same audit event as a password sign-in (the caller opens
    the device session). A switched-off login opens with an SMS password only, as with the password."""
    passkey = authenticate(session, token=token, response=response, rp=rp, ip=ip, now=now)
    login = session.get(Login, passkey.login_id)
    if not login.enabled:
        session.commit()
        raise PasskeyRefused(SWITCHED_OFF)
    record(session, Actor(login_id=login.id, account_id=login.primary_account_id, ip=ip), "login", obj=login,
           detail=f"passkey {passkey.name}")
    session.flush()
    return login


def staff_must_use(staff: Staff, *, everyone: bool) -> bool:
    """Whether the staff member's sign-in takes a passkey after the password (``everyone``: the config says all)."""
    return everyone or staff.passkey_required


def require_for_staff(session: Session, *, email: str, required: bool, actor: Actor) -> Staff:
    """Make a staff member's sign-in take a passkey after the password, or no longer."""
    staff = session.scalar(select(Staff).where(Staff.email == (email or "").strip().lower()))
    if staff is None:
        raise NotFound("staff")
    if staff.passkey_required != required:
        staff.passkey_required = required
        record(session, actor, "staff_passkey_required" if required else "staff_passkey_optional", obj=staff,
               detail=staff.email)
    session.commit()
    return staff


def _own(session: Session, owner: Owner, passkey_id: int) -> Passkey:
    passkey = session.get(Passkey, passkey_id)
    if passkey is None or not owner.owns(passkey):
        raise NotFound("passkey")
    return passkey


def rename(session: Session, *, owner: Owner, passkey_id: int, name: str, actor: Actor) -> None:
    passkey = _own(session, owner, passkey_id)
    name = " ".join((name or "").split())[:NAME_LENGTH]
    if not name:
        raise PasskeyRefused(_l("Name the passkey, for example after the phone it is on."))
    if name != passkey.name:
        record(session, actor, "passkey_renamed", obj=passkey, detail=f"{passkey.name} → {name}")
        passkey.name = name
    session.commit()


def remove(session: Session, *, owner: Owner, passkey_id: int, actor: Actor, now: datetime,
           account: Account | None = None) -> str:
    """Remove the passkey (the device keeps its half, which no longer opens anything); the number is told."""
    passkey = _own(session, owner, passkey_id)
    name = passkey.name
    record(session, actor, "passkey_removed", obj=passkey, detail=name)
    session.delete(passkey)
    if account is not None:
        alerts.notify(session, account=account, event=alerts.SECURITY, now=now, name=name,
                      message=_l("the passkey \"%(name)s\" was removed from your personal account. If it was not "
                                 "you, call %(support)s."))
    session.commit()
    return name
