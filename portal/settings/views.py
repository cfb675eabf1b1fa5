from flask import abort, current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from portal.auth.social import after_sign_in
from portal.domain import (
    alerts,
    auth,
    blacklist,
    closing,
    devices,
    forwarding,
    home_pause,
    linetools,
    preferences,
    provisioning,
    ringback,
    services,
    voicemail,
)
from portal.domain.accounts import accounts_of_login
from portal.domain.bounds import db_int
from portal.domain.errors import DomainError, NotFound
from portal.domain.phones import format_msisdn
from portal.domain.tunes import render_wav
from portal.extensions import db, limiter
from portal.forms import PortalForm
from portal.models import utcnow
from portal.settings import bp
from portal.settings.forms import (
    AlertsForm,
    BlacklistAddForm,
    BlacklistRemoveForm,
    CloseForm,
    ForwardingForm,
    PasswordForm,
    PreferencesForm,
    RingbackForm,
    RingbackRemoveForm,
    VoicemailForm,
    VoiceMessagesForm,
)
from portal.settings.passkeys import passkey_section
from portal.web import (
    account_in_focus,
    auth_policy,
    current_actor,
    customer_required,
    is_htmx_partial,
    money,
    render,
    retry_message,
    see_other,
)


@bp.get("/")
@customer_required
def index():
    return render("settings/index.html", account=account_in_focus())


@bp.route("/password", methods=["GET", "POST"])
@customer_required
def password():
    form = PasswordForm()
    forced = current_user.must_change_password
    if form.validate_on_submit():
        try:
            auth.change_password(db.session, login_id=current_user.id, current_password=form.current_password.data,
                                 new_password=form.new_password.data,
                                 keep_session_token=current_user.web_session.token, actor=current_actor(),
                                 now=utcnow(), policy=auth_policy())
            flash(_("Your new password is saved. Other devices have been signed out."))
            return see_other(after_sign_in() if forced else ".index")
        except DomainError as err:
            form.add_domain_error(err)
    return render("settings/password.html", "settings/_password_form.html", form=form, forced=forced,
                  status=form.status)


@bp.route("/preferences", methods=["GET", "POST"])
@customer_required
def preferences_page():
    form = PreferencesForm(data={"language": current_user.language or str(current_app.jinja_env.globals[
        "current_locale"]()), "timezone": current_user.timezone or current_app.config["BABEL_DEFAULT_TIMEZONE"]})
    if form.validate_on_submit():
        try:
            preferences.set_preferences(db.session, login_id=current_user.id, language=form.language.data,
                                        timezone=form.timezone.data, locales=current_app.config["LOCALES"],
                                        actor=current_actor())
            session["lang"] = form.language.data
            flash(_("Saved."))
            return see_other(".preferences_page")
        except DomainError as err:
            form.add_domain_error(err)
    return render("settings/preferences.html", status=form.status, form=form)


@bp.get("/sessions")
@customer_required
def sessions():
    places = [tuple(p) for p in current_app.config["IP_PLACES"]]
    rows = [(s, devices.describe_browser(s.user_agent), devices.place_of(s.ip, places))
            for s in devices.active_sessions(db.session, current_user.id)]
    return render("settings/sessions.html", rows=rows, current_token=current_user.web_session.token,
                  form=PortalForm(), **passkey_section())


@bp.post("/sessions/<int:session_id>/end")
@customer_required
def end_session(session_id: int):
    if not PortalForm().validate_on_submit():
        abort(400)
    if session_id == current_user.web_session.id:
        abort(404)  # this device signs out with "Sign out", which also clears the cookie
    try:
        devices.end_session(db.session, login_id=current_user.id, session_id=session_id, actor=current_actor(),
                            now=utcnow())
    except NotFound:
        abort(404)
    flash(_("That device is signed out."))
    return see_other(".sessions")


@bp.post("/sessions/end-others")
@customer_required
def end_other_sessions():
    if not PortalForm().validate_on_submit():
        abort(400)
    ended = devices.end_other_sessions(db.session, login_id=current_user.id,
                                       keep_token=current_user.web_session.token, actor=current_actor(), now=utcnow())
    flash(_("Signed out on every other device (%(n)d).", n=ended))
    return see_other(".sessions")


@bp.get("/contracts")
@customer_required
def contracts():
    accounts = accounts_of_login(db.session, current_user.id)
    return render("settings/contracts.html", accounts=accounts,
                  paused_until=home_pause.paused_until(db.session, [a.id for a in accounts if a.kind == "home"]))


@bp.route("/close", methods=["GET", "POST"])
@customer_required
def close():
    """Switch the personal account off: confirmed with a code sent by SMS to the login's own number."""
    form = CloseForm()
    if form.validate_on_submit():
        try:
            closing.close(db.session, login_id=current_user.id, code=form.code.data, actor=current_actor(),
                          now=utcnow(), policy=auth_policy())
        except DomainError as err:
            form.add_domain_error(err)
        else:
            language = session.get("lang")
            logout_user()
            session.clear()
            if language:
                session["lang"] = language
            flash(_("Your personal account is switched off. Your numbers keep working. To switch it on again, "
                    "get a password by SMS."))
            return redirect(url_for("auth.login"), 303)
    return render("settings/close.html", status=form.status, form=form, code_form=PortalForm(formdata=None),
                  code_sent=session.get("close_code_sent", False), code_phone=closing.code_phone(current_user))


@bp.post("/close/code")
@customer_required
@limiter.limit("3 per hour")
def close_code():
    if not PortalForm().validate_on_submit():
        abort(400)
    try:
        closing.send_code(db.session, login_id=current_user.id, actor=current_actor(), now=utcnow(),
                          policy=auth_policy())
        session["close_code_sent"] = True
        flash(_("The code is sent by SMS to your number."))
    except DomainError as err:
        flash(err.message)
    return see_other(".close")


def _minutes(value) -> int | None:
    return value.hour * 60 + value.minute if value is not None else None


def _clock(minutes: int | None):
    from datetime import time

    return time(minutes // 60, minutes % 60) if minutes is not None else None


@bp.route("/alerts", methods=["GET", "POST"])
@customer_required
def alerts_page():
    """Which events send an SMS to the number in focus, and the quiet hours."""
    account = account_in_focus()
    saved = alerts.settings_of(db.session, account.id)
    form = AlertsForm(data={
        "low_balance": saved.low_balance_below is not None, "low_balance_below": saved.low_balance_below,
        "on_payment": saved.on_payment, "on_change": saved.on_change, "on_new_device": saved.on_new_device,
        "on_every_login": saved.on_every_login, "on_outages": saved.on_outages, "quiet_from": _clock(saved.quiet_from),
        "quiet_to": _clock(saved.quiet_to)})
    if form.validate_on_submit():
        if form.low_balance.data and form.low_balance_below.data is None:
            form.low_balance_below.errors = [_("Say below which amount to send the alert.")]
        else:
            try:
                alerts.save_settings(
                    db.session, account_id=account.id,
                    low_balance_below=form.low_balance_below.data if form.low_balance.data else None,
                    on_payment=form.on_payment.data, on_change=form.on_change.data,
                    on_new_device=form.on_new_device.data, on_every_login=form.on_every_login.data,
                    on_outages=form.on_outages.data,
                    quiet_from=_minutes(form.quiet_from.data), quiet_to=_minutes(form.quiet_to.data),
                    actor=current_actor(), now=utcnow())
                flash(_("Alerts saved."))
                return see_other(".alerts_page")
            except DomainError as err:
                form.add_domain_error(err)
    return render("settings/alerts.html", status=form.status, form=form, account=account)


@bp.get("/missed-calls")
@customer_required
def missed_calls():
    """The missed-call notice service and the calls missed while the phone was off (last 30 days)."""
    from datetime import timedelta

    account = account_in_focus()
    before = request.args.get("before", type=db_int)
    calls, next_before = linetools.missed_calls(db.session, account.id, since=utcnow() - timedelta(days=30),
                                                before_id=before)
    partial = "settings/_missed_rows.html" if before and is_htmx_partial() else None
    return render("settings/missed_calls.html", partial, account=account, calls=calls, next_before=next_before,
                  before=before, service=linetools.missed_call_service(db.session),
                  subscription=services.active_subscription(db.session, account.id, linetools.MISSED_CALLS_SERVICE))


@bp.route("/internet", methods=["GET", "POST"])
@customer_required
def internet():
    """The access-point settings to type by hand, or sent to the phone by SMS."""
    account = account_in_focus()
    form = PortalForm()
    cfg = current_app.config
    if form.validate_on_submit():
        try:
            linetools.send_internet_settings(db.session, account=account, settings=cfg["INTERNET_SETTINGS"],
                                             per_day=cfg["INTERNET_SETTINGS_SMS_PER_DAY"], brand=cfg["BRAND"],
                                             locale=auth_policy().sms_locale, actor=current_actor(), now=utcnow())
            flash(_("The settings are sent by SMS to %(number)s.",
                    number=current_app.jinja_env.filters["phone"](account.line.msisdn)))
            return see_other(".internet")
        except DomainError as err:
            form.form_errors.append(retry_message(err) if getattr(err, "retry_after", None) else err.message)
            return render("settings/internet.html", status=429 if getattr(err, "retry_after", None) else 422,
                          form=form, account=account, settings=cfg["INTERNET_SETTINGS"])
    return render("settings/internet.html", form=form, account=account, settings=cfg["INTERNET_SETTINGS"])


def _line_in_focus():
    """Switch settings belong to a mobile line; a home contract in focus has none of them."""
    account = account_in_focus()
    if account.line is None:
        abort(404)
    return account


def _forwarding_forms(account, bound: str | None = None, bound_form=None) -> dict:
    forms = {}
    for item in forwarding.conditions_of(db.session, account.id):
        if item.name == bound:
            forms[item.name] = (item, bound_form)
            continue
        rule = item.rule
        forms[item.name] = (item, ForwardingForm(formdata=None, prefix=item.name, data={
            "enabled": item.enabled, "target": format_msisdn(rule.target) if rule and rule.target else "",
            "seconds": rule.seconds if rule and rule.seconds else
            (forwarding.DEFAULT_SECONDS if item.name == "no_answer" else None)}))
    return forms


@bp.get("/forwarding")
@customer_required
def forwarding_page():
    """The four forwarding conditions of the line in focus, each with its switch state."""
    account = _line_in_focus()
    forms = _forwarding_forms(account)
    only = request.args.get("condition")
    if only in forms and is_htmx_partial():  # a pending state polling for its outcome
        return render("settings/forwarding.html", "settings/_forwarding_condition.html", account=account,
                      item=forms[only][0], form=forms[only][1], always_on=forms["always"][0].enabled)
    return render("settings/forwarding.html", account=account, forms=forms, always_on=forms["always"][0].enabled)


@bp.post("/forwarding/<condition>")
@customer_required
def set_forwarding(condition: str):
    account = _line_in_focus()
    if condition not in forwarding.CONDITIONS:
        abort(404)
    form = ForwardingForm(prefix=condition)
    if form.validate_on_submit():
        try:
            forwarding.set_forwarding(
                db.session, account_id=account.id, login_id=current_user.id, condition=condition,
                target=form.target.msisdn, enabled=form.enabled.data, seconds=form.seconds.data,
                country=current_app.config["PHONE_DEFAULT_REGION"], idempotency_key=form.idempotency_key.data,
                actor=current_actor(), now=utcnow())
            flash(_("Saved. The network applies it in a moment."))
            return see_other(".forwarding_page")
        except DomainError as err:
            if isinstance(err, NotFound):
                abort(404)
            form.add_domain_error(err)
    forms = _forwarding_forms(account, condition, form)
    return render("settings/forwarding.html", "settings/_forwarding_condition.html", status=form.status,
                  account=account, forms=forms, item=forms[condition][0], form=form,
                  always_on=forms["always"][0].enabled)


# Where each switch setting is shown, by the first part of its subject.
SUBJECT_PAGES = {"forwarding": "settings.forwarding_page", "blacklist": "settings.blacklist_page",
                 "voicemail": "settings.voicemail_page", "voicemail-message": "settings.voicemail_page",
                 "ringback": "settings.ringback_page",
                 "service": "settings.index"}


@bp.post("/switch/<int:command_id>/retry")
@customer_required
def retry_command(command_id: int):
    """Send a failed switch command again, from the page that showed it (any line this login manages)."""
    if not PortalForm().validate_on_submit():
        abort(400)
    try:
        command = provisioning.command_of(db.session, login_id=current_user.id, command_id=command_id)
        kind = command.subject.split(":")[0]
        back = ("numbers.line", {"account_id": command.account_id}) if kind == "line" else \
            (SUBJECT_PAGES.get(kind, "settings.index"), {})
        if provisioning.retry(db.session, account_id=command.account_id, command_id=command_id,
                              actor=current_actor(), now=utcnow()):
            flash(_("Sent to the network again."))
    except NotFound:
        abort(404)
    except DomainError as err:
        flash(err.message)
    return see_other(back[0], **back[1])


def _blacklist_page(account, add_form=None, remove_form=None, status=200):
    entries = blacklist.entries_of(db.session, account.id)
    service = services.service_by_code(db.session, blacklist.SERVICE_CODE)
    return render("settings/blacklist.html", status=status, account=account, entries=entries,
                  states=blacklist.states_of(db.session, account.id, entries), service=service,
                  subscription=services.active_subscription(db.session, account.id, blacklist.SERVICE_CODE),
                  limit=current_app.config["BLACKLIST_LIMIT"], add_form=add_form or BlacklistAddForm(formdata=None),
                  remove_form=remove_form or BlacklistRemoveForm(formdata=None))


@bp.get("/blacklist")
@customer_required
def blacklist_page():
    """Numbers whose calls and SMS the line rejects; the paid service behind it."""
    return _blacklist_page(_line_in_focus())


@bp.post("/blacklist/add")
@customer_required
def blacklist_add():
    account = _line_in_focus()
    form = BlacklistAddForm()
    if form.validate_on_submit():
        try:
            blacklist.add_number(db.session, account_id=account.id, msisdn=form.number.msisdn,
                                 accept_fee=form.connect.data, limit=current_app.config["BLACKLIST_LIMIT"],
                                 idempotency_key=form.idempotency_key.data, actor=current_actor(), now=utcnow())
            flash(_("%(number)s is on the blacklist.", number=format_msisdn(form.number.msisdn)))
            return see_other(".blacklist_page")
        except NotFound:
            abort(404)
        except DomainError as err:
            form.add_domain_error(err)
    return _blacklist_page(account, add_form=form, status=form.status)


@bp.post("/blacklist/remove")
@customer_required
def blacklist_remove():
    account = _line_in_focus()
    form = BlacklistRemoveForm()
    if form.validate_on_submit():
        try:
            blacklist.remove_numbers(db.session, account_id=account.id, entry_ids=form.entries.data,
                                     disconnect_if_empty=form.disconnect.data,
                                     idempotency_key=form.idempotency_key.data, actor=current_actor(), now=utcnow())
            flash(_("Removed from the blacklist."))
            return see_other(".blacklist_page")
        except NotFound:
            abort(404)
        except DomainError as err:
            form.add_domain_error(err)
    return _blacklist_page(account, remove_form=form, status=form.status)


def _voicemail_page(account, form=None, messages_form=None, pin_error=None, status=200):
    box = voicemail.box_of(db.session, account.id)
    return render("settings/voicemail.html", status=status, account=account, box=box,
                  form=form or VoicemailForm(formdata=None, data={"enabled": box.enabled,
                                                                  "conditions": voicemail.conditions_of(box)}),
                  messages=voicemail.messages_of(db.session, account.id),
                  messages_form=messages_form or VoiceMessagesForm(formdata=None), pin_form=PortalForm(formdata=None),
                  pin_error=pin_error, states=provisioning.latest(db.session, account.id,
                                                                  [voicemail.SUBJECT, voicemail.PIN_SUBJECT]))


@bp.get("/voicemail")
@customer_required
def voicemail_page():
    """Voicemail of the line in focus: on/off, for which conditions, the messages, a new PIN."""
    return _voicemail_page(_line_in_focus())


@bp.post("/voicemail")
@customer_required
def voicemail_save():
    account = _line_in_focus()
    form = VoicemailForm()
    if form.validate_on_submit():
        try:
            voicemail.save_settings(db.session, account_id=account.id, enabled=form.enabled.data,
                                    conditions=form.conditions.data or [], idempotency_key=form.idempotency_key.data,
                                    actor=current_actor(), now=utcnow())
            flash(_("Saved. The network applies it in a moment."))
            return see_other(".voicemail_page")
        except DomainError as err:
            form.add_domain_error(err)
    return _voicemail_page(account, form=form, status=form.status)


@bp.post("/voicemail/delete")
@customer_required
def voicemail_delete():
    account = _line_in_focus()
    form = VoiceMessagesForm()
    if form.validate_on_submit():
        try:
            voicemail.delete_messages(db.session, account_id=account.id, message_ids=form.messages.data,
                                      idempotency_key=form.idempotency_key.data, actor=current_actor(), now=utcnow())
            flash(_("Deleted."))
            return see_other(".voicemail_page")
        except NotFound:
            abort(404)
    return _voicemail_page(account, messages_form=form, status=form.status)


@bp.post("/voicemail/pin")
@customer_required
def voicemail_pin():
    account = _line_in_focus()
    if not PortalForm().validate_on_submit():
        abort(400)
    cfg = current_app.config
    try:
        voicemail.reset_pin(db.session, account=account, per_day=cfg["VOICEMAIL_PIN_SMS_PER_DAY"], brand=cfg["BRAND"],
                            locale=auth_policy().sms_locale, actor=current_actor(), now=utcnow())
    except DomainError as err:
        return _voicemail_page(account, pin_error=retry_message(err), status=429)
    flash(_("A new PIN is sent by SMS to %(number)s.", number=format_msisdn(account.line.msisdn)))
    return see_other(".voicemail_page")


def _ringback_form(melodies, form=None, melody_id=None):
    form = form or RingbackForm(formdata=None, data={"melody": melody_id})
    form.melody.choices = [(m.service_id, _("%(title)s — %(artist)s, %(price)s a day", title=m.service.title,
                                            artist=m.artist, price=money(m.service.daily_fee))) for m in melodies]
    return form


def _ringback_page(account, form=None, remove_form=None, status=200):
    melodies = ringback.catalog(db.session)
    choices = ringback.choices_of(db.session, account.id)
    return render("settings/ringback.html", status=status, account=account, melodies=melodies, choices=choices,
                  states=ringback.states_of(db.session, account.id, choices), form=_ringback_form(melodies, form),
                  remove_form=remove_form or RingbackRemoveForm(formdata=None),
                  base=services.active_subscription(db.session, account.id, ringback.BASE_CODE),
                  base_service=services.service_by_code(db.session, ringback.BASE_CODE))


@bp.get("/ringback")
@customer_required
def ringback_page():
    """The melody callers hear instead of the ringing tone: for everyone or for chosen numbers."""
    return _ringback_page(_line_in_focus())


@bp.get("/ringback/melodies/<int:melody_id>")
@customer_required
def melody_preview(melody_id: int):
    account = _line_in_focus()
    try:
        chosen = ringback.melody(db.session, melody_id)
    except NotFound:
        abort(404)
    return render("settings/melody.html", account=account, melody=chosen,
                  form=_ringback_form([chosen], melody_id=chosen.service_id), fixed_melody=chosen.service_id,
                  new_fees=ringback.new_fees(db.session, account.id, chosen),
                  base_service=services.service_by_code(db.session, ringback.BASE_CODE))


@bp.get("/ringback/melodies/<int:melody_id>.wav")
@customer_required
def melody_audio(melody_id: int):
    try:
        chosen = ringback.melody(db.session, melody_id)
    except NotFound:
        abort(404)
    if not chosen.tune:
        abort(404)
    response = current_app.response_class(render_wav(chosen.tune), mimetype="audio/wav")
    response.headers["Cache-Control"] = "private, max-age=86400"
    return response


@bp.post("/ringback/set")
@customer_required
def ringback_set():
    account = _line_in_focus()
    melodies = ringback.catalog(db.session)
    form = _ringback_form(melodies, RingbackForm())
    if form.validate_on_submit():
        try:
            ringback.set_melody(db.session, account_id=account.id, melody_id=form.melody.data or 0,
                                caller=form.caller.msisdn if form.who.data == "number" else None,
                                accept_fee=form.accept.data, idempotency_key=form.idempotency_key.data,
                                actor=current_actor(), now=utcnow())
            flash(_("The melody is set. The network applies it in a moment."))
            return see_other(".ringback_page")
        except NotFound:
            form.melody.errors = [_("Choose a melody from the list.")]
        except DomainError as err:
            form.add_domain_error(err)
    return _ringback_page(account, form=form, status=form.status)


@bp.post("/ringback/remove")
@customer_required
def ringback_remove():
    account = _line_in_focus()
    form = RingbackRemoveForm()
    if form.validate_on_submit():
        try:
            ringback.remove_choices(db.session, account_id=account.id, choice_ids=form.choices.data,
                                    idempotency_key=form.idempotency_key.data, actor=current_actor(), now=utcnow())
            flash(_("Removed: those callers hear the ringing tone again."))
            return see_other(".ringback_page")
        except NotFound:
            abort(404)
    return _ringback_page(account, remove_form=form, status=form.status)
