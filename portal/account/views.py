from flask import Response, request, stream_with_context
from flask_babel import to_user_timezone
from flask_login import current_user

from portal.account import bp
from portal.domain import archive
from portal.domain.bounds import db_int
from portal.domain.home import home_overview
from portal.domain.overview import account_overview
from portal.extensions import db
from portal.forms import period_filter
from portal.models import utcnow
from portal.web import account_in_focus, card_in_focus, customer_required, is_htmx_partial, render, select_timezone

# Dashboard blocks htmx can refresh alone: /?block=<name> renders account/_<name>.html.
BLOCKS = ("summary", "allowances", "services", "subscriptions")


@bp.get("/")
@customer_required
def dashboard():
    card = card_in_focus()  # the mobile dashboard shows the card's columns: no ORM objects
    if card.kind == "home":
        account = account_in_focus()
        return render("account/home_dashboard.html", account=account,
                      home=home_overview(db.session, account, today=to_user_timezone(utcnow()).date(), now=utcnow(),
                                         tz=select_timezone()))
    block = request.args.get("block")
    return render("account/dashboard.html", f"account/_{block}.html" if block in BLOCKS else None,
                  account=card, overview=account_overview(db.session, card, tariff_fee=card.tariff_fee or 0,
                                                          now=utcnow(), today=to_user_timezone(utcnow()).date()))


def _archive_filter():
    form, period, groups, _ = period_filter([(key, str(label)) for key, (label, _) in archive.GROUPS.items()])
    return form, period, groups[0] if groups else None


@bp.get("/archive")
@customer_required
def archive_page():
    """The transactions archive: what this login did, and what happened to its accounts."""
    form, period, group = _archive_filter()
    before = request.args.get("before", type=db_int)
    events, next_before = archive.events_page(db.session, current_user.id, period, group, before_id=before)
    partial = "account/_archive_rows.html" if before and is_htmx_partial() else None
    return render("account/archive.html", partial, status=form.status, form=form, events=events,
                  next_before=next_before, before=before, labels=archive.LABELS)


@bp.get("/archive.csv")
@customer_required
def archive_csv():
    form, period, group = _archive_filter()
    if form.errors:
        return render("account/archive.html", status=422, form=form, events=[], next_before=None, before=None,
                      labels=archive.LABELS)
    response = Response(stream_with_context(archive.csv_lines(db.session, current_user.id, period, group)),
                        mimetype="text/csv")
    response.headers["Content-Disposition"] = f"attachment; filename=archive-{period.start}-{period.end}.csv"
    return response
