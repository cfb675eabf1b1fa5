from flask import abort, request
from flask_login import current_user

from portal.account import bp
from portal.domain.accounts import account_of_login
from portal.domain.errors import NotFound
from portal.domain.overview import account_overview
from portal.extensions import db
from portal.models import utcnow
from portal.web import customer_required, render

# Dashboard blocks htmx can refresh alone: /?block=<name> renders account/_<name>.html.
BLOCKS = ("summary", "allowances", "services", "subscriptions")


def own_account_or_404(account_id: int):
    try:
        return account_of_login(db.session, login_id=current_user.id, account_id=account_id)
    except NotFound:
        abort(404)


@bp.get("/")
@customer_required
def dashboard():
    account = own_account_or_404(current_user.primary_account_id)
    block = request.args.get("block")
    return render("account/dashboard.html", f"account/_{block}.html" if block in BLOCKS else None,
                  account=account, overview=account_overview(db.session, account, now=utcnow()))
