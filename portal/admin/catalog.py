"""The catalog for staff: everyone may look, only admins change it (docs/architecture.md §1)."""
from flask import abort, flash
from flask_babel import gettext as _

from portal.admin import bp
from portal.admin.forms import KIND_LABELS, ServiceForm, TariffForm
from portal.domain import catalog
from portal.domain.errors import DomainError, NotFound
from portal.domain.services import CATEGORY_LABELS
from portal.extensions import db
from portal.forms import PortalForm
from portal.web import admin_required, current_actor, render, see_other, staff_required


def tariff_or_404(tariff_id: int):
    try:
        return catalog.get_tariff(db.session, tariff_id)
    except NotFound:
        abort(404)


def service_or_404(service_id: int):
    try:
        return catalog.get_service(db.session, service_id)
    except NotFound:
        abort(404)


@bp.get("/catalog")
@staff_required
def catalog_list():
    return render("admin/catalog.html", tariffs=catalog.all_tariffs(db.session),
                  services=catalog.all_services(db.session), kinds=KIND_LABELS, categories=CATEGORY_LABELS)


@bp.route("/catalog/tariffs/new", methods=["GET", "POST"], defaults={"tariff_id": None})
@bp.route("/catalog/tariffs/<int:tariff_id>", methods=["GET", "POST"])
@admin_required
def tariff_form(tariff_id: int | None):
    tariff = tariff_or_404(tariff_id) if tariff_id else None
    form = TariffForm(obj=tariff)
    if form.validate_on_submit():
        try:
            if tariff is None:
                tariff = catalog.create_tariff(db.session, **form.values(), actor=current_actor())
            else:
                catalog.update_tariff(db.session, tariff_id=tariff.id, **form.values(), actor=current_actor())
            flash(_("Tariff “%(code)s” is saved.", code=tariff.code))
            return see_other(".catalog_list")
        except DomainError as err:
            form.add_domain_error(err)
    return render("admin/tariff.html", "admin/_tariff_form.html", status=form.status, form=form, tariff=tariff,
                  regions=catalog.known_regions(db.session))


@bp.route("/catalog/services/new", methods=["GET", "POST"], defaults={"service_id": None})
@bp.route("/catalog/services/<int:service_id>", methods=["GET", "POST"])
@admin_required
def service_form(service_id: int | None):
    service = service_or_404(service_id) if service_id else None
    linked = [t.id for t in service.tariffs] if service else []
    form = ServiceForm(obj=service, tariff_ids=linked,
                       conflict_ids=catalog.conflicts_of(db.session, service.id) if service else [])
    form.set_choices(catalog.all_tariffs(db.session), catalog.all_services(db.session),
                     own_id=service_id, linked=linked)
    if form.validate_on_submit():
        try:
            if service is None:
                service = catalog.create_service(db.session, **form.values(), actor=current_actor())
            else:
                catalog.update_service(db.session, service_id=service.id, **form.values(), actor=current_actor())
            flash(_("Service “%(code)s” is saved.", code=service.code))
            return see_other(".catalog_list")
        except DomainError as err:
            form.add_domain_error(err)
    return render("admin/service.html", "admin/_service_form.html", status=form.status, form=form,
                  service=service)


@bp.post("/catalog/tariffs/<int:tariff_id>/archive", defaults={"archived": True})
@bp.post("/catalog/tariffs/<int:tariff_id>/restore", defaults={"archived": False})
@admin_required
def archive_tariff(tariff_id: int, archived: bool):
    tariff = tariff_or_404(tariff_id)
    if not PortalForm().validate_on_submit():
        abort(400)
    catalog.set_tariff_archived(db.session, tariff_id=tariff.id, archived=archived, actor=current_actor())
    flash(_("Tariff “%(code)s” is archived.", code=tariff.code) if archived
          else _("Tariff “%(code)s” is offered again.", code=tariff.code))
    return see_other(".catalog_list")


@bp.post("/catalog/services/<int:service_id>/archive", defaults={"archived": True})
@bp.post("/catalog/services/<int:service_id>/restore", defaults={"archived": False})
@admin_required
def archive_service(service_id: int, archived: bool):
    service = service_or_404(service_id)
    if not PortalForm().validate_on_submit():
        abort(400)
    catalog.set_service_archived(db.session, service_id=service.id, archived=archived, actor=current_actor())
    flash(_("Service “%(code)s” is archived.", code=service.code) if archived
          else _("Service “%(code)s” is offered again.", code=service.code))
    return see_other(".catalog_list")
