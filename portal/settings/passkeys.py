"""The customer's passkeys, on the devices page: add (by the passkey script), rename, remove."""
from flask import abort, current_app, flash, jsonify, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import StringField
from wtforms.validators import InputRequired, Length

from portal.auth.passkeys import (
    browser_answer,
    options_response,
    refusal,
    relying_party,
    relying_party_or_404,
    signed_in_recently,
    taken_challenge,
)
from portal.domain import auth, passkeys
from portal.domain.errors import DomainError, NotFound
from portal.extensions import db, limiter
from portal.forms import PortalForm
from portal.models import utcnow
from portal.settings import bp
from portal.web import current_actor, customer_required, render, see_other


class PasskeyNameForm(PortalForm):
    name = StringField(_l("Name"), validators=[InputRequired(_l("Name the passkey, for example after the phone it "
                                                                  "is on.")),
                                               Length(max=passkeys.NAME_LENGTH)],
                       render_kw={"maxlength": passkeys.NAME_LENGTH, "autocomplete": "off"},
                       description=_l("For example, after the phone or computer it is on."))


def _owner() -> passkeys.Owner:
    return passkeys.Owner(login_id=current_user.id)


def passkey_section() -> dict:
    """What the devices page's passkey section shows (settings/_passkeys.html)."""
    return {"passkeys": passkeys.passkeys_of(db.session, _owner()), "passkeys_on": relying_party() is not None,
            "passkey_form": PasskeyNameForm(formdata=None), "passkey_recent": signed_in_recently(),
            "passkey_max": passkeys.MAX_PER_OWNER}


@bp.post("/passkeys/options")
@customer_required
@limiter.limit(passkeys.REGISTRATION_OPTIONS_LIMIT)  # a challenge row each: no flooding the table
def passkey_options():
    rp = relying_party_or_404()
    if not signed_in_recently():
        return jsonify(error=_("Sign out and sign in again to add a passkey.")), 403
    try:
        token, options = passkeys.registration_options(
            db.session, owner=_owner(), rp=rp, user_name=auth.login_identifier(current_user),
            display_name=auth.login_identifier(current_user), handle_key=current_app.config["SECRET_KEY"],
            now=utcnow())
    except DomainError as err:
        return refusal(err)
    return options_response(token, options)


@bp.post("/passkeys")
@customer_required
def add_passkey():
    rp = relying_party_or_404()
    data = browser_answer()
    if not signed_in_recently():
        return jsonify(error=_("Sign out and sign in again to add a passkey.")), 403
    try:
        passkey = passkeys.register(db.session, owner=_owner(), token=taken_challenge(), response=data["credential"],
                                    name=str(data.get("name") or ""), rp=rp,
                                    handle_key=current_app.config["SECRET_KEY"], actor=current_actor(), now=utcnow(),
                                    account=current_user.primary_account)
    except DomainError as err:
        db.session.rollback()
        return refusal(err)
    flash(_("The passkey “%(name)s” is added. Next time, sign in with it: no SMS needed.", name=passkey.name))
    return jsonify(redirect=url_for(".sessions"))


def _own_passkey_or_404(passkey_id: int):
    passkey = next((p for p in passkeys.passkeys_of(db.session, _owner()) if p.id == passkey_id), None)
    if passkey is None:
        abort(404)
    return passkey


def _passkey_page(passkey, form: PasskeyNameForm):
    return render("settings/passkey.html", status=form.status, passkey=passkey, form=form, remove_form=PortalForm())


@bp.get("/passkeys/<int:passkey_id>")
@customer_required
def passkey(passkey_id: int):
    passkey = _own_passkey_or_404(passkey_id)
    return _passkey_page(passkey, PasskeyNameForm(formdata=None, data={"name": passkey.name}))


@bp.post("/passkeys/<int:passkey_id>")
@customer_required
def rename_passkey(passkey_id: int):
    passkey = _own_passkey_or_404(passkey_id)
    form = PasskeyNameForm()
    if form.validate_on_submit():
        try:
            passkeys.rename(db.session, owner=_owner(), passkey_id=passkey.id, name=form.name.data,
                            actor=current_actor())
        except DomainError as err:
            db.session.rollback()
            form.add_domain_error(err)
        else:
            flash(_("The passkey is renamed."))
            return see_other(".sessions")
    return _passkey_page(passkey, form)


@bp.post("/passkeys/<int:passkey_id>/remove")
@customer_required
def remove_passkey(passkey_id: int):
    if not PortalForm().validate_on_submit():
        abort(400)
    try:
        name = passkeys.remove(db.session, owner=_owner(), passkey_id=passkey_id, actor=current_actor(),
                               now=utcnow(), account=current_user.primary_account)
    except NotFound:
        abort(404)
    flash(_("The passkey “%(name)s” is removed: it no longer signs you in.", name=name))
    return see_other(".sessions")
