"""Documents customers accept with an SMS code: the versions, publishing a new one (admins), and the proof of
an acceptance with the exact text accepted."""
from flask import abort, flash
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import StringField, TextAreaField
from wtforms.validators import InputRequired, Length

from portal.admin import bp
from portal.domain.documents import consent
from portal.domain.errors import DomainError, NotFound
from portal.extensions import db
from portal.forms import PortalForm
from portal.models import utcnow
from portal.web import admin_required, current_actor, render, see_other, staff_required


class PublishForm(PortalForm):
    slug = StringField(_l("Code"), validators=[InputRequired(_l("Give the document a code.")), Length(max=40)],
                       render_kw={"maxlength": 40, "autocomplete": "off", "spellcheck": "false"})
    title = StringField(_l("Title"), validators=[InputRequired(_l("Give the document a title.")), Length(max=200)],
                        render_kw={"maxlength": 200})
    body = TextAreaField(_l("Text"), validators=[InputRequired(_l("Type the text.")), Length(max=50_000)],
                         render_kw={"rows": 12, "maxlength": 50_000})


def _page(form: PublishForm, *, status: int = 200):
    return render("admin/documents.html", status=status, form=form, versions=consent.all_versions(db.session))


@bp.get("/documents")
@staff_required
def documents():
    return _page(PublishForm(formdata=None))


@bp.post("/documents")
@admin_required
def publish_document():
    """A new version (customers accept it again); a new code starts a new document."""
    form = PublishForm()
    if form.validate_on_submit():
        try:
            document = consent.publish(db.session, slug=form.slug.data, title=form.title.data, body=form.body.data,
                                       actor=current_actor(), now=utcnow())
        except DomainError as err:
            form.add_domain_error(err)
        else:
            flash(_("Published: «%(title)s», version %(version)s.", title=document.title, version=document.version))
            return see_other(".documents")
    return _page(form, status=form.status)


@bp.get("/acceptances/<int:acceptance_id>")
@staff_required
def acceptance(acceptance_id: int):
    """The proof: who accepted what, when, from where, and the exact text, checked against its hash."""
    try:
        proof = consent.proof(db.session, acceptance_id)
    except NotFound:
        abort(404)
    return render("admin/acceptance.html", proof=proof)
