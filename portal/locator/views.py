"""The family locator's pages: the seeker's people (ask, confirm with the code, locate, remove), the marks on a
child's line, and the holder's "who can see where I am" (agree, refuse, revoke, every lookup)."""
from functools import partial

from flask import abort, current_app, flash
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import HiddenField, StringField
from wtforms.validators import InputRequired, Length

from portal.domain import locator, services
from portal.domain.errors import DomainError, NotFound
from portal.domain.locator.network import network_from_config
from portal.extensions import db
from portal.forms import IdempotentForm, PortalForm, phone_field
from portal.locator import bp
from portal.models import utcnow
from portal.web import account_in_focus, current_actor, customer_required, managed_accounts, render, see_other


class AskForm(IdempotentForm):
    msisdn = phone_field(_l("Their phone number"))
    name = StringField(_l("Name in your list"), validators=[InputRequired(_l("Give them a name.")),
                                               Length(max=locator.NAME_MAX)],
                       render_kw={"maxlength": locator.NAME_MAX, "autocomplete": "off"},
                       description=_l("How they appear in your list, e.g. “Mum”."))


class CodeForm(PortalForm):
    code = StringField(_l("Code they were sent"), validators=[InputRequired(_l("Type the code.")), Length(max=12)],
                       render_kw={"inputmode": "numeric", "autocomplete": "off", "maxlength": 12})


class ChildLineForm(PortalForm):
    on = HiddenField()


def _managed_ids() -> set[int]:
    return {a.id for a in managed_accounts()}


def _people_page(*, ask_form=None, code_form=None, code_for=None, refusal=None):
    """The seeker's page; a form re-shown with its errors, or a row's refusal ``(consent id, message, status)``."""
    account = account_in_focus()
    now = utcnow()
    service = services.service_by_code(db.session, locator.SERVICE)
    connected = account.line is not None and locator.service_connected(db.session, account.id)
    forms = [f for f in (ask_form, code_form) if f is not None]
    status = refusal[2] if refusal else next((f.status for f in forms if f.errors), 200)
    children = [a for a in managed_accounts() if a.line is not None and a.customer_id == account.customer_id
                and a.id != account.id]
    return render("locator/people.html", status=status, account=account, connected=connected, service=service,
                  people=locator.people(db.session, account.id, now) if account.line else [],
                  ask_form=ask_form or AskForm(formdata=None), code_form=code_form or CodeForm(formdata=None),
                  code_for=code_for, refusal=refusal, action_form=IdempotentForm(formdata=None), children=children,
                  child_form=ChildLineForm(formdata=None), labels=locator.STATE_LABELS,
                  owner=account.id == current_user.primary_account_id)


@bp.get("/")
@customer_required
def people():
    return _people_page()


@bp.post("/ask")
@customer_required
def ask():
    form = AskForm()
    if form.validate_on_submit():
        try:
            consent = locator.ask(db.session, seeker=account_in_focus(), msisdn=form.msisdn.msisdn,
                                  name=form.name.data, managed_account_ids=_managed_ids(),
                                  idempotency_key=form.idempotency_key.data, actor=current_actor(), now=utcnow())
        except DomainError as err:
            db.session.rollback()
            form.add_domain_error(err)
        else:
            if consent is not None and consent.state == "granted":
                flash(_("%(name)s is a child’s line of your personal account: you can see where they are now.",
                        name=consent.name))
            else:
                flash(_("If the number can be located, we have sent it an SMS with a code. Type the code when "
                        "%(name)s tells it to you, or they can agree in their personal account.",
                        name=form.name.data))
            return see_other(".people")
    return _people_page(ask_form=form)


@bp.post("/<int:consent_id>/code")
@customer_required
def confirm_code(consent_id: int):
    form = CodeForm()
    if form.validate_on_submit():
        try:
            locator.confirm_code(db.session, seeker_account_id=account_in_focus().id, consent_id=consent_id,
                                 code=form.code.data, actor=current_actor(), now=utcnow())
        except NotFound:
            abort(404)
        except DomainError as err:
            form.add_domain_error(err)
        else:
            flash(_("Consent is given: you can see where they are."))
            return see_other(".people")
    return _people_page(code_form=form, code_for=consent_id)


@bp.post("/<int:consent_id>/locate")
@customer_required
def locate(consent_id: int):
    form = IdempotentForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        locator.locate(db.session, network_from_config(current_app.config), seeker_account_id=account_in_focus().id,
                       consent_id=consent_id, idempotency_key=form.idempotency_key.data, actor=current_actor(),
                       now=utcnow(), notices_per_day=current_app.config["LOCATOR_NOTICES_PER_DAY"])
    except NotFound:
        abort(404)
    except DomainError as err:
        return _people_page(refusal=(consent_id, err.message, err.status))
    return see_other(".people", _anchor=f"person-{consent_id}")


@bp.post("/<int:consent_id>/remove")
@customer_required
def remove(consent_id: int):
    if not PortalForm().validate_on_submit():
        abort(400)
    try:
        locator.remove(db.session, seeker_account_id=account_in_focus().id, consent_id=consent_id,
                       actor=current_actor(), now=utcnow())
    except NotFound:
        abort(404)
    flash(_("Removed from your list."))
    return see_other(".people")


@bp.post("/child/<int:account_id>")
@customer_required
def child_line(account_id: int):
    """The owner marks a line of the personal account as used by a child under 14 (or no longer)."""
    form = ChildLineForm()
    if not form.validate_on_submit():
        abort(400)
    if current_user.primary_account_id != account_in_focus().id:
        abort(404)  # only the owner's own number marks the others
    try:
        locator.mark_child_line(db.session, account_id=account_id,
                                managed_account_ids=_managed_ids(), used_by_child=form.on.data == "1",
                                actor=current_actor())
    except NotFound:
        abort(404)
    return see_other(".people", _anchor="children")


# ---- the holder's side -----------------------------------------------------------------------------------------

def _me_page(*, form=None, status=200):
    account = account_in_focus()
    now = utcnow()
    received = locator.received(db.session, account.id, now)
    return render("locator/me.html", status=status, account=account, received=received, form=form or PortalForm(),
                  numbers=locator.seeker_numbers(db.session, [c for c, _state in received]),
                  lookups=locator.lookups_of(db.session, account.id), labels=locator.STATE_LABELS)


@bp.get("/me")
@customer_required
def me():
    return _me_page()


def _holder_change(consent_id: int, change, done: str):
    form = PortalForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        change(db.session, target_account_id=account_in_focus().id, consent_id=consent_id, actor=current_actor(),
               now=utcnow())
    except NotFound:
        abort(404)
    except DomainError as err:
        form.add_domain_error(err)
        return _me_page(form=form, status=form.status)
    flash(done)
    return see_other(".me")


@bp.post("/me/<int:consent_id>/agree")
@customer_required
def agree(consent_id: int):
    return _holder_change(consent_id, partial(locator.answer, agree=True),
                          _("You agreed: they can see where this number is until you revoke."))


@bp.post("/me/<int:consent_id>/refuse")
@customer_required
def refuse(consent_id: int):
    return _holder_change(consent_id, partial(locator.answer, agree=False), _("Refused."))


@bp.post("/me/<int:consent_id>/revoke")
@customer_required
def revoke(consent_id: int):
    return _holder_change(consent_id, locator.revoke, _("Consent withdrawn: they can no longer see where you are."))
