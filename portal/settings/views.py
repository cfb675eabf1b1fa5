from flask import flash
from flask_babel import gettext as _
from flask_login import current_user

from portal.domain import auth
from portal.domain.errors import DomainError
from portal.extensions import db
from portal.models import utcnow
from portal.settings import bp
from portal.settings.forms import PasswordForm
from portal.web import auth_policy, current_actor, customer_required, render, see_other


@bp.get("/")
@customer_required
def index():
    return render("settings/index.html")


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
            return see_other("account.dashboard" if forced else ".index")
        except DomainError as err:
            form.add_domain_error(err)
    return render("settings/password.html", "settings/_password_form.html", form=form, forced=forced,
                  status=form.status)
