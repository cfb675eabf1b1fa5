from flask import abort
from flask_login import current_user

from portal.account import bp
from portal.domain.accounts import account_of_login
from portal.domain.errors import NotFound
from portal.extensions import db
from portal.web import customer_required, render


def own_account_or_404(account_id: int):
    try:
        return account_of_login(db.session, login_id=current_user.id, account_id=account_id)
    except NotFound:
        abort(404)


@bp.get("/")
@customer_required
def dashboard():
    account = own_account_or_404(current_user.primary_account_id)
    return render("account/dashboard.html", "account/_summary.html", account=account)
