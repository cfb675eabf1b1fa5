"""Outage and works notices for staff (support and admins): list, publish, edit, post updates, resolve."""
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from flask import abort, flash
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import DateTimeLocalField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from portal.admin import bp
from portal.domain import catalog, notices
from portal.domain.errors import DomainError, NotFound
from portal.domain.notices.labels import KIND_LABELS, SCOPE_LABELS, STATE_LABELS
from portal.extensions import db
from portal.forms import PortalForm
from portal.models import utcnow
from portal.web import current_actor, render, see_other, select_timezone, staff_required

REQUIRED = _l("This field is required.")
CHOOSE = _l("Choose from the list.")
WHEN = "%Y-%m-%dT%H:%M"


class NoticeForm(PortalForm):
    kind = SelectField(_l("Kind"), choices=list(KIND_LABELS.items()), invalid_choice_message=CHOOSE)
    title = StringField(_l("Title"), validators=[InputRequired(REQUIRED), Length(max=notices.publishing.MAX_TITLE)],
                        render_kw={"maxlength": notices.publishing.MAX_TITLE})
    text = TextAreaField(_l("What happened and what customers can do"),
                         validators=[Length(max=notices.publishing.MAX_TEXT)],
                         render_kw={"maxlength": notices.publishing.MAX_TEXT, "rows": 3})
    scope = SelectField(_l("Who is affected"), choices=list(SCOPE_LABELS.items()), invalid_choice_message=CHOOSE)
    region = StringField(_l("Region"), validators=[Length(max=64)],
                         render_kw={"maxlength": 64, "list": "regions", "autocomplete": "off"})
    connection_type = SelectField(_l("Connection type"), invalid_choice_message=CHOOSE,
                                  choices=[("", "—"), *((t, t.upper()) for t in catalog.CONNECTION_TYPES)])
    address = StringField(_l("Building"), validators=[Length(max=200)],
                          render_kw={"maxlength": 200, "list": "buildings", "autocomplete": "off"})
    starts_at = DateTimeLocalField(_l("Starts"), format=WHEN, validators=[InputRequired(REQUIRED)])
    expected_end = DateTimeLocalField(_l("Expected end"), format=WHEN, validators=[Optional()])

    def scope_value(self) -> str:
        field = {"region": self.region, "connection": self.connection_type, "address": self.address}.get(
            self.scope.data)
        return (field.data or "") if field is not None else ""

    def values(self, zone: str) -> notices.NoticeValues:
        kind = self.kind.data if "kind" in self._fields else ""
        return notices.NoticeValues(kind=kind, title=self.title.data or "", text=self.text.data or "",
                                    scope=self.scope.data, scope_value=self.scope_value(),
                                    starts_at=to_utc(self.starts_at.data, zone),
                                    expected_end=to_utc(self.expected_end.data, zone))


class UpdateForm(PortalForm):
    text = TextAreaField(_l("Update"), validators=[Length(max=notices.publishing.MAX_UPDATE)],
                         render_kw={"maxlength": notices.publishing.MAX_UPDATE, "rows": 2})
    state = SelectField(_l("State"), choices=[], invalid_choice_message=CHOOSE)

    def __init__(self, *args, kind: str, **kwargs):
        super().__init__(*args, prefix="update", **kwargs)
        self.state.choices = [("", _l("unchanged")), *((s, STATE_LABELS[s]) for s in notices.STATES[kind])]


class ResolveForm(PortalForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="resolve", **kwargs)

    text = TextAreaField(_l("Closing words"), validators=[Length(max=notices.publishing.MAX_UPDATE)],
                         render_kw={"maxlength": notices.publishing.MAX_UPDATE, "rows": 2})


def to_utc(local: datetime | None, zone: str) -> datetime | None:
    """A time staff typed (their zone) as stored (naive UTC)."""
    if local is None:
        return None
    return local.replace(tzinfo=ZoneInfo(zone)).astimezone(timezone.utc).replace(tzinfo=None)


def to_local(moment: datetime | None, zone: str) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(zone)).replace(tzinfo=None, second=0,
                                                                                  microsecond=0)


def notice_or_404(notice_id: int):
    try:
        return notices.get_notice(db.session, notice_id)
    except NotFound:
        abort(404)


def _choices() -> dict:
    return dict(regions=catalog.known_regions(db.session), connection_types=catalog.CONNECTION_TYPES)


@bp.get("/notices")
@staff_required
def notice_list():
    return render("admin/notices.html", notices=notices.staff_list(db.session))


@bp.route("/notices/new", methods=["GET", "POST"])
@staff_required
def notice_new():
    zone = select_timezone()
    form = NoticeForm(data={"starts_at": to_local(utcnow(), zone)})
    if form.validate_on_submit():
        try:
            notice = notices.create_notice(db.session, values=form.values(zone), **_choices(), actor=current_actor(),
                                           now=utcnow())
            flash(_("The notice is published."))
            return see_other(".notice_page", notice_id=notice.id)
        except DomainError as err:
            form.add_domain_error(err)
    return render("admin/notice_new.html", "admin/_notice_form.html", status=form.status, form=form, notice=None,
                  regions=catalog.known_regions(db.session), buildings=notices.building_suggestions(db.session))


def edit_form(notice, **kwargs) -> NoticeForm:
    """The form with the notice's values (the kind stays what it was published as: no field for it)."""
    zone = select_timezone()
    form = NoticeForm(obj=notice, data={
        "region": notice.scope_value if notice.scope == "region" else "",
        "connection_type": notice.scope_value if notice.scope == "connection" else "",
        "address": notice.scope_value if notice.scope == "address" else "",
        "starts_at": to_local(notice.starts_at, zone), "expected_end": to_local(notice.expected_end, zone)}, **kwargs)
    del form.kind
    return form


def notice_detail(notice, *, form=None, update_form=None, resolve_form=None, status: int = 200):
    """The notice's page; the edit form alone when htmx posted it (the other two forms are plain posts)."""
    return render("admin/notice.html", "admin/_notice_form.html" if form is not None else None, status=status,
                  notice=notice, form=form or edit_form(notice, formdata=None),
                  update_form=update_form or UpdateForm(kind=notice.kind, formdata=None),
                  resolve_form=resolve_form or ResolveForm(formdata=None),
                  regions=catalog.known_regions(db.session), buildings=notices.building_suggestions(db.session))


@bp.route("/notices/<int:notice_id>", methods=["GET", "POST"])
@staff_required
def notice_page(notice_id: int):
    """The notice's words, area and times (a form), its updates, and the forms to post one or resolve it."""
    notice = notice_or_404(notice_id)
    form = edit_form(notice)
    if form.validate_on_submit():
        try:
            notices.edit_notice(db.session, notice_id=notice.id, values=form.values(select_timezone()),
                                **_choices(), actor=current_actor(), now=utcnow())
            flash(_("The notice is saved."))
            return see_other(".notice_page", notice_id=notice.id)
        except DomainError as err:
            form.add_domain_error(err)
    return notice_detail(notice, form=form, status=form.status)


@bp.post("/notices/<int:notice_id>/updates")
@staff_required
def notice_update(notice_id: int):
    notice = notice_or_404(notice_id)
    form = UpdateForm(kind=notice.kind)
    if form.validate_on_submit():
        try:
            notices.post_update(db.session, notice_id=notice.id, text=form.text.data or "",
                                state=form.state.data or None, actor=current_actor(), now=utcnow())
            flash(_("The update is posted."))
            return see_other(".notice_page", notice_id=notice.id, _anchor="updates")
        except DomainError as err:
            form.add_domain_error(err)
    return notice_detail(notice, update_form=form, status=form.status)


@bp.post("/notices/<int:notice_id>/resolve")
@staff_required
def notice_resolve(notice_id: int):
    notice = notice_or_404(notice_id)
    form = ResolveForm()
    if form.validate_on_submit():
        try:
            notices.resolve_notice(db.session, notice_id=notice.id, text=form.text.data or "",
                                   actor=current_actor(), now=utcnow())
            flash(_("The notice is closed."))
            return see_other(".notice_list")
        except DomainError as err:
            form.add_domain_error(err)
    return notice_detail(notice, resolve_form=form, status=form.status)
