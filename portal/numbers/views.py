from flask import abort, redirect, request, session, url_for
from flask_login import current_user

from portal.domain.accounts import account_of_login
from portal.domain.errors import NotFound
from portal.extensions import db
from portal.numbers import bp
from portal.web import customer_required, managed_accounts, render


@bp.get("/")
@customer_required
def index():
    return render("numbers/index.html", accounts=managed_accounts())


def _local_path(value: str | None) -> str | None:
    """A path on this site to go back to (never another host: no open redirect)."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return None


@bp.post("/focus")
@customer_required
def focus():
    """The header's switcher: the chosen number becomes the one every page acts on."""
    account_id = request.form.get("account", type=int)
    try:
        account = account_of_login(db.session, login_id=current_user.id, account_id=account_id or 0)
    except NotFound:
        abort(404)
    session["focus"] = account.id
    return redirect(_local_path(request.form.get("next")) or url_for("account.dashboard"), 303)
