"""The customer's balance-feed keys: make one (shown once), see where each was last used, revoke."""
from flask import abort, flash, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import StringField

from portal.domain import feed
from portal.domain.errors import DomainError, NotFound
from portal.extensions import db
from portal.forms import IdempotentForm, PortalForm
from portal.models import utcnow
from portal.settings import bp
from portal.web import current_actor, customer_required, render, see_other


class KeyForm(IdempotentForm):
    name = StringField(_l("Name of the key"), render_kw={"maxlength": feed.NAME_LENGTH, "autocomplete": "off"},
                       description=_l("Where you use it, e.g. “Widget on my phone”."))


def _page(form: KeyForm, *, new: feed.NewKey | None = None):
    return render("settings/feed.html", status=form.status, form=form, new=new, revoke=PortalForm(),
                  keys=feed.keys_of_login(db.session, current_user.id), max_keys=feed.MAX_KEYS,
                  json_url=url_for("feed.as_json", _external=True))


@bp.get("/feed")
@customer_required
def feed_keys():
    return _page(KeyForm(formdata=None))


@bp.post("/feed")
@customer_required
def make_feed_key():
    """The key is shown in this answer only: there is no page to see it again (a redirect would need to carry
    it in the session cookie)."""
    form = KeyForm()
    if form.validate_on_submit():
        try:
            new = feed.make_key(db.session, login_id=current_user.id, name=form.name.data, actor=current_actor(),
                                now=utcnow(), idempotency_key=form.idempotency_key.data)
        except DomainError as err:
            db.session.rollback()
            form.add_domain_error(err)
        else:
            if new is None:  # the same form again (a double click): the key was shown the first time
                return see_other(".feed_keys")
            return _page(KeyForm(formdata=None), new=new)
    return _page(form)


@bp.post("/feed/<int:token_id>/revoke")
@customer_required
def revoke_feed_key(token_id: int):
    if not PortalForm().validate_on_submit():
        abort(400)
    try:
        token = feed.revoke_key(db.session, login_id=current_user.id, token_id=token_id, actor=current_actor(),
                                now=utcnow())
    except NotFound:
        abort(404)
    flash(_("The key “%(name)s” is revoked: it reads nothing any more.", name=token.name))
    return see_other(".feed_keys")
