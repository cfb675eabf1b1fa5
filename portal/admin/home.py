"""Home contracts for staff: open one for a customer (its login's first password shown once), change its status.

Admins change; support staff may look at the customer page but get 403 here (docs/architecture.md §1).
"""
from flask import abort, flash
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange

from portal.admin import bp
from portal.domain import catalog, home_contracts, staff
from portal.domain.bounds import db_int
from portal.domain.errors import DomainError, NotFound
from portal.extensions import db
from portal.forms import IdempotentForm, PortalForm, phone_field
from portal.models import Customer, utcnow
from portal.web import admin_required, current_actor, render, see_other

CHOOSE = _l("Choose from the list.")


class HomeContractForm(IdempotentForm):
    address = StringField(_l("Address"), validators=[InputRequired(_l("Enter the address.")),
                                                     Length(max=home_contracts.MAX_ADDRESS)],
                          render_kw={"maxlength": home_contracts.MAX_ADDRESS, "autocomplete": "off",
                                     "placeholder": _l("City, street, house, flat")})
    connection_type = SelectField(_l("Connection"), invalid_choice_message=CHOOSE, choices=[
        SelectChoice(key, label) for key, label in home_contracts.CONNECTION_TYPES.items()])
    tariff_id = SelectField(_l("Tariff"), coerce=db_int, choices=[], invalid_choice_message=CHOOSE)
    contact_phone = phone_field(_l("Contact phone (the customer's passwords come here by SMS)"))
    billing_day = IntegerField(_l("Billing day"), default=1, validators=[
        InputRequired(_l("Enter a day from 1 to 28.")), NumberRange(1, 28, _l("Enter a day from 1 to 28."))],
        render_kw={"min": 1, "max": 28, "inputmode": "numeric"})

    def set_tariffs(self, tariffs):
        self.tariff_id.choices = [SelectChoice(t.id, f"{t.name} ({t.code})") for t in tariffs
                                  if t.kind == "home" and not t.archived]


class HomeStatusForm(PortalForm):
    new_status = RadioField(_l("New status"), choices=list(home_contracts.STATUSES.items()),
                        validators=[InputRequired(CHOOSE)], invalid_choice_message=CHOOSE)
    reason = StringField(_l("Reason"), validators=[InputRequired(_l("Give the reason.")), Length(max=200)],
                         render_kw={"maxlength": 200})


@bp.route("/customers/<int:customer_id>/home-contracts/new", methods=["GET", "POST"])
@admin_required
def open_home_contract(customer_id: int):
    customer = db.session.get(Customer, customer_id)
    if customer is None:
        abort(404)
    form = HomeContractForm()
    form.set_tariffs(catalog.all_tariffs(db.session))
    if form.validate_on_submit():
        try:
            opened = home_contracts.open_home_contract(
                db.session, customer_id=customer.id, address=form.address.data,
                connection_type=form.connection_type.data, tariff_id=form.tariff_id.data,
                contact_phone=form.contact_phone.msisdn, billing_day=form.billing_day.data,
                idempotency_key=form.idempotency_key.data, actor=current_actor(), now=utcnow())
        except NotFound:
            abort(404)
        except DomainError as err:
            form.add_domain_error(err)
        else:
            # The only time the password exists in clear: this answer, never a redirect or the session.
            return render("admin/home_contract_opened.html", customer=customer, account=opened.account,
                          password=opened.password)
    return render("admin/home_contract_new.html", status=form.status, form=form, customer=customer)


@bp.route("/accounts/<int:account_id>/home-status", methods=["GET", "POST"])
@admin_required
def home_status(account_id: int):
    try:
        account = home_contracts.home_account(db.session, account_id)
    except NotFound:
        abort(404)
    customer_id = staff.customer_of_account(db.session, account_id)
    form = HomeStatusForm()
    if form.validate_on_submit():
        try:
            home_contracts.change_home_status(db.session, account_id=account_id, status=form.new_status.data,
                                              reason=form.reason.data, actor=current_actor(), now=utcnow())
            flash(_("The contract is now: %(status)s.", status=home_contracts.STATUSES[form.new_status.data]))
            return see_other(".customer", customer_id=customer_id, _anchor=f"account-{account_id}")
        except NotFound:
            abort(404)
        except DomainError as err:
            form.add_domain_error(err)
    return render("admin/home_status.html", status=form.status, form=form, account=account,
                  customer_id=customer_id, statuses=home_contracts.STATUSES)
