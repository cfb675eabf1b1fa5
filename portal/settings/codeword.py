"""The customer's code word for calls to support: set, change, remove (only a hash is kept)."""
from flask import abort, flash
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import PasswordField
from wtforms.validators import InputRequired, Length

from portal.domain import codeword
from portal.domain.errors import DomainError
from portal.extensions import db
from portal.forms import PortalForm
from portal.models import utcnow
from portal.settings import bp
from portal.web import account_in_focus, current_actor, customer_required, render, see_other


class CodeWordForm(PortalForm):
    word = PasswordField(_l("Code word"), validators=[InputRequired(_l("Type the code word.")),
                                                      Length(max=codeword.MAX_LENGTH)],
                         render_kw={"maxlength": codeword.MAX_LENGTH, "autocomplete": "off"},
                         description=_l("Support asks for it before changing anything on a call. Case and spaces "
                                        "do not matter."))


def _page(form: CodeWordForm):
    account = account_in_focus()
    return render("settings/code_word.html", status=form.status, form=form, remove_form=PortalForm(),
                  set_at=codeword.set_at(db.session, account.customer_id))


@bp.get("/code-word")
@customer_required
def code_word():
    return _page(CodeWordForm(formdata=None))


@bp.post("/code-word")
@customer_required
def set_code_word():
    form = CodeWordForm()
    if form.validate_on_submit():
        try:
            codeword.set_word(db.session, account=account_in_focus(), word=form.word.data, actor=current_actor(),
                              now=utcnow())
        except DomainError as err:
            db.session.rollback()
            form.add_domain_error(err)
        else:
            flash(_("The code word is saved. Support will ask for it on calls."))
            return see_other(".code_word")
    return _page(form)


@bp.post("/code-word/remove")
@customer_required
def remove_code_word():
    if not PortalForm().validate_on_submit():
        abort(400)
    if codeword.remove_word(db.session, account=account_in_focus(), actor=current_actor(), now=utcnow()):
        flash(_("The code word is removed."))
    return see_other(".code_word")
