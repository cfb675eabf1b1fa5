from flask import request

from portal.account import bp
from portal.domain.overview import account_overview
from portal.extensions import db
from portal.models import utcnow
from portal.web import account_in_focus, customer_required, render

# Dashboard blocks htmx can refresh alone: /?block=<name> renders account/_<name>.html.
BLOCKS = ("summary", "allowances", "services", "subscriptions")


@bp.get("/")
@customer_required
def dashboard():
    account = account_in_focus()
    block = request.args.get("block")
    return render("account/dashboard.html", f"account/_{block}.html" if block in BLOCKS else None,
                  account=account, overview=account_overview(db.session, account, now=utcnow()))
