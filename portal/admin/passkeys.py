"""Staff passkeys: each staff member adds their own; where one is required, signing in takes the password and
then a passkey (PORTAL_STAFF_PASSKEY_REQUIRED for everyone, ``flask staff-passkey EMAIL`` for one)."""
from datetime import datetime, timedelta

from flask import abort, current_app, flash, jsonify, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.admin import bp
from portal.auth.passkeys import (
    browser_answer,
    options_response,
    refusal,
    relying_party,
    relying_party_or_404,
    signed_in_recently,
    taken_challenge,
)
from portal.domain import passkeys, staff
from portal.domain.errors import DomainError, NotFound
from portal.extensions import db, limiter
from portal.forms import PortalForm
from portal.models import Staff, utcnow
from portal.web import client_ip, current_actor, render, see_other, staff_required, start_user_session

PENDING_KEY = "staff_passkey_pending"  # the staff member whose password was right, and when
PENDING_FOR = timedelta(minutes=5)
# Where a staff member who must use a passkey, and has none yet, may go: to add one, or to leave.
ENROLMENT_ENDPOINTS = {"admin.staff_passkeys", "admin.staff_passkey_options", "admin.add_staff_passkey", "admin.logout",
                       "admin.login"}


def _owner() -> passkeys.Owner:
    return passkeys.Owner(staff_id=current_user.id)


def must_use_passkey(member: Staff) -> bool:
    """Fails closed: where passkeys are off (no site address), a staff member who must use one cannot sign in."""
    return passkeys.staff_must_use(member, everyone=current_app.config["STAFF_PASSKEY_REQUIRED"])


def second_step_or_session(member: Staff):
    """After the right password: the passkey step where one is required and added, else the staff session."""
    if must_use_passkey(member) and passkeys.count_of(db.session, passkeys.Owner(staff_id=member.id)):
        session[PENDING_KEY] = {"staff": member.id, "at": utcnow().isoformat()}
        return see_other(".passkey_login")
    web_session = staff.open_staff_session(db.session, staff=member, ip=client_ip(), now=utcnow())
    web_session.staff.web_session = web_session
    start_user_session(web_session.staff)
    return see_other(".home")


def _pending_staff_id() -> int | None:
    pending = session.get(PENDING_KEY) or {}
    try:
        fresh = utcnow() - datetime.fromisoformat(pending["at"]) <= PENDING_FOR
    except (KeyError, TypeError, ValueError):
        return None
    return pending.get("staff") if fresh else None


@bp.before_request
def _enrol_first():
    """A staff member who must use a passkey and has none yet adds one before anything else."""
    if (isinstance(current_user, Staff) and request.endpoint not in ENROLMENT_ENDPOINTS
            and must_use_passkey(current_user) and not passkeys.count_of(db.session, _owner())):
        return redirect(url_for("admin.staff_passkeys"))
    return None


@bp.get("/passkeys")
@staff_required
def staff_passkeys():
    return render("admin/passkeys.html", passkeys=passkeys.passkeys_of(db.session, _owner()),
                  passkeys_on=relying_party() is not None, recent=signed_in_recently(), form=PortalForm(),
                  required=must_use_passkey(current_user), passkey_max=passkeys.MAX_PER_OWNER)


@bp.post("/passkeys/options")
@staff_required
@limiter.limit(passkeys.REGISTRATION_OPTIONS_LIMIT)  # a challenge row each: no flooding the table
def staff_passkey_options():
    rp = relying_party_or_404()
    if not signed_in_recently():
        return jsonify(error=_("Sign out and sign in again to add a passkey.")), 403
    try:
        token, options = passkeys.registration_options(
            db.session, owner=_owner(), rp=rp, user_name=current_user.email, display_name=current_user.name,
            handle_key=current_app.config["SECRET_KEY"], now=utcnow())
    except DomainError as err:
        return refusal(err)
    return options_response(token, options)


@bp.post("/passkeys")
@staff_required
def add_staff_passkey():
    rp = relying_party_or_404()
    data = browser_answer()
    if not signed_in_recently():
        return jsonify(error=_("Sign out and sign in again to add a passkey.")), 403
    try:
        passkey = passkeys.register(db.session, owner=_owner(), token=taken_challenge(), response=data["credential"],
                                    name=str(data.get("name") or ""), rp=rp,
                                    handle_key=current_app.config["SECRET_KEY"], actor=current_actor(), now=utcnow())
    except DomainError as err:
        db.session.rollback()
        return refusal(err)
    flash(_("The passkey “%(name)s” is added.", name=passkey.name))
    return jsonify(redirect=url_for(".staff_passkeys"))


@bp.post("/passkeys/<int:passkey_id>/remove")
@staff_required
def remove_staff_passkey(passkey_id: int):
    if not PortalForm().validate_on_submit():
        abort(400)
    if must_use_passkey(current_user) and passkeys.count_of(db.session, _owner()) <= 1:
        # Without it the next sign-in would be the password alone, and whoever has the password could enrol theirs.
        flash(_("You must sign in with a passkey: add another one before you remove your last."))
        return see_other(".staff_passkeys")
    try:
        name = passkeys.remove(db.session, owner=_owner(), passkey_id=passkey_id, actor=current_actor(),
                               now=utcnow())
    except NotFound:
        abort(404)
    flash(_("The passkey “%(name)s” is removed.", name=name))
    return see_other(".staff_passkeys")


@bp.get("/login/passkey")
def passkey_login():
    return render("admin/passkey_login.html", pending=_pending_staff_id() is not None)


@bp.post("/login/passkey/options")
@limiter.limit(lambda: current_app.config["RATELIMIT_STAFF_LOGIN"])
def staff_sign_in_options():
    rp = relying_party_or_404()
    staff_id = _pending_staff_id()
    if staff_id is None:
        return jsonify(error=_("Signing in took too long. Enter the e-mail and password again.")), 403
    token, options = passkeys.authentication_options(db.session, rp=rp, now=utcnow(),
                                                     owner=passkeys.Owner(staff_id=staff_id))
    return options_response(token, options)


@bp.post("/login/passkey")
@limiter.limit(lambda: current_app.config["RATELIMIT_STAFF_LOGIN"])
def staff_passkey_sign_in():
    rp = relying_party_or_404()
    staff_id = _pending_staff_id()
    if staff_id is None:
        return jsonify(error=_("Signing in took too long. Enter the e-mail and password again.")), 403
    try:
        passkey = passkeys.authenticate(db.session, token=taken_challenge(), response=browser_answer()["credential"],
                                        rp=rp, ip=client_ip(), now=utcnow(), staff_id=staff_id)
    except DomainError as err:
        return refusal(err)
    session.pop(PENDING_KEY, None)
    web_session = staff.open_staff_session(db.session, staff=db.session.get(Staff, staff_id), ip=client_ip(),
                                           now=utcnow(), detail=f"password and passkey {passkey.name}")
    web_session.staff.web_session = web_session
    start_user_session(web_session.staff)
    return jsonify(redirect=url_for(".home"))
