"""Catalog pages for staff: support looks, admin changes; every change through portal/domain/catalog.py."""
import gzip
import re

import pytest
from sqlalchemy import func, select

from portal.models import Account, AuditEvent, Service, Subscription, Tariff
from tests import factories
from tests.web.admin.test_admin import staff_sign_in

BUDGET = 14 * 1024
ADMIN = "boss@example.com"


@pytest.fixture
def catalog(db_session):
    smart = factories.make_tariff(db_session, code="smart", name="Smart", monthly_fee=55000)
    old = factories.make_tariff(db_session, code="old", name="Old Smart", archived=True)
    home = factories.make_tariff(db_session, code="home-100", name="Home 100", kind="home", region="Moscow")
    who = factories.make_service(db_session, code="who", name="Who called", monthly_fee=1500)
    gone = factories.make_service(db_session, code="gone", name="Gone service", archived=True)
    db_session.commit()
    return dict(smart=smart, old=old, home=home, who=who, gone=gone)


@pytest.fixture
def admin(client, db_session):
    factories.make_staff(db_session, email=ADMIN, role="admin")
    assert staff_sign_in(client, email=ADMIN).status_code == 303
    return client


@pytest.fixture
def support(client, db_session):
    factories.make_staff(db_session, role="support")
    assert staff_sign_in(client).status_code == 303
    return client


def tariff_form(**changes):
    return {"code": "smart-x", "name": "Smart X", "kind": "mobile", "region": "", "monthly_fee": "550",
            "switch_fee": "50,00", "minutes": "600", "sms": "300", "mms": "0", "data_mb": "20480",
            "description": "", **changes}


def service_form(**changes):
    return {"code": "hidden", "name": "Hidden number", "category": "calls", "kind": "mobile",
            "connection_fee": "30", "monthly_fee": "39,00", "description": "", **changes}


def error_of(html: str, field: str) -> str | None:
    match = re.search(rf'<p id="{field}-error" class="error" role="alert">([^<]*)</p>', html)
    return match.group(1) if match else None


def actions(db_session):
    return [(e.action, e.detail, e.staff_id) for e in db_session.scalars(
        select(AuditEvent).where(AuditEvent.action.notin_(["staff_login"])).order_by(AuditEvent.id))]


def changing_routes(catalog):
    t, s = catalog["smart"].id, catalog["who"].id
    return [("get", "/admin/catalog/tariffs/new"), ("post", "/admin/catalog/tariffs/new"),
            ("get", f"/admin/catalog/tariffs/{t}"), ("post", f"/admin/catalog/tariffs/{t}"),
            ("post", f"/admin/catalog/tariffs/{t}/archive"), ("post", f"/admin/catalog/tariffs/{t}/restore"),
            ("get", "/admin/catalog/services/new"), ("post", "/admin/catalog/services/new"),
            ("get", f"/admin/catalog/services/{s}"), ("post", f"/admin/catalog/services/{s}"),
            ("post", f"/admin/catalog/services/{s}/archive"), ("post", f"/admin/catalog/services/{s}/restore")]


# ---- who may do what -------------------------------------------------------------------

def test_the_catalog_needs_a_staff_sign_in(client, catalog, login_as):
    assert client.get("/admin/catalog").status_code == 302
    login_as("+79161234567")  # a customer is not staff either
    for method, url in [("get", "/admin/catalog"), *changing_routes(catalog)]:
        response = client.get(url) if method == "get" else client.post_form(url, tariff_form())
        assert response.status_code == 302 and "/admin/login" in response.location, url


def test_support_sees_the_catalog_with_archived_items_marked(support, catalog):
    page = support.get("/admin/catalog")
    assert page.status_code == 200
    for shown in ("Smart", "Old Smart", "Home 100", "Moscow", "all regions", "Who called", "Gone service",
                  "archived", "Only administrators can change the catalog."):
        assert shown in page.text
    assert re.search(r'<tr class="archived"><td>old</td>', page.text)
    assert re.search(r'<tr class="archived"><td>gone</td>', page.text)
    assert not re.search(r'<tr class="archived"><td>smart</td>', page.text)
    assert "New tariff" not in page.text and "/admin/catalog/tariffs/" not in page.text


def test_support_is_refused_every_change(support, db_session, catalog):
    for method, url in changing_routes(catalog):
        if method == "get":
            response = support.get(url)
        else:
            response = support.post_form(url, {**tariff_form(), **service_form(), "code": "sneaky"})
        assert response.status_code == 403, (method, url)
        assert "Access denied" in response.text
    db_session.expire_all()
    assert db_session.scalar(select(func.count(Tariff.id))) == 3
    assert db_session.scalar(select(func.count(Service.id))) == 2
    assert not db_session.get(Tariff, catalog["smart"].id).archived
    assert db_session.get(Tariff, catalog["old"].id).archived
    assert actions(db_session) == []


def test_admins_get_the_links(admin, catalog):
    page = admin.get("/admin/catalog").text
    assert "New tariff" in page and "New service" in page
    assert f'href="/admin/catalog/tariffs/{catalog["old"].id}"' in page
    assert 'href="/admin/catalog"' in admin.get("/admin/").text  # the nav


# ---- tariffs ---------------------------------------------------------------------------

@pytest.mark.parametrize(("typed", "kopecks"), [("550", 55000), ("550.00", 55000), ("550,5", 55050)])
def test_an_admin_creates_a_tariff_with_fees_in_roubles(admin, db_session, typed, kopecks):
    response = admin.post_form("/admin/catalog/tariffs/new", tariff_form(monthly_fee=typed, region="Moscow",
                                                                          unlimited_data="y"))
    assert response.status_code == 303 and response.location.endswith("/admin/catalog")
    tariff = db_session.scalar(select(Tariff).where(Tariff.code == "smart-x"))
    assert (tariff.monthly_fee, tariff.switch_fee, tariff.region, tariff.unlimited_data) == \
        (kopecks, 5000, "Moscow", True)
    staff_id = db_session.scalar(select(AuditEvent.staff_id).where(AuditEvent.action == "staff_login"))
    assert actions(db_session) == [("tariff_created", "smart-x", staff_id)]
    assert "Tariff “smart-x” is saved." in admin.get("/admin/catalog").text


def test_the_edit_form_shows_roubles_and_saves_the_change(admin, db_session, catalog):
    url = f"/admin/catalog/tariffs/{catalog['smart'].id}"
    page = admin.get(url).text
    assert 'name="monthly_fee" required type="text" value="550.00"' in page
    response = admin.post_form(url, tariff_form(code="smart", name="Smart", monthly_fee="600,10"))
    assert response.status_code == 303
    db_session.expire_all()
    assert db_session.get(Tariff, catalog["smart"].id).monthly_fee == 60010
    [(action, detail, _)] = actions(db_session)
    assert action == "tariff_updated" and detail.startswith("smart:") and "monthly_fee 55000 -> 60010" in detail


def test_an_admin_gives_the_english_name_and_an_empty_one_means_the_same(admin, db_session, catalog):
    url = f"/admin/catalog/services/{catalog['who'].id}"
    response = admin.post_form(url, service_form(code="who", name="Кто звонил", name_en=" Who called ",
                                                 description_en="An SMS about missed calls."))
    assert response.status_code == 303
    db_session.expire_all()
    service = db_session.get(Service, catalog["who"].id)
    assert (service.name_en, service.description_en) == ("Who called", "An SMS about missed calls.")
    assert 'value="Who called"' in admin.get(url).text
    admin.post_form(url, service_form(code="who", name="Кто звонил", name_en="", description_en=""))
    db_session.expire_all()
    assert db_session.get(Service, catalog["who"].id).name_en is None
    too_long = admin.post_form(url, service_form(code="who", name_en="x" * 101))
    assert too_long.status_code == 422 and error_of(too_long.text, "name_en")


HUGE = "9" * 10_000


@pytest.mark.parametrize(("field", "value", "message"), [
    ("monthly_fee", "abc", "Enter an amount in roubles"),
    ("monthly_fee", "-5", "cannot be negative"),
    ("monthly_fee", "1e3", "Enter an amount in roubles"),
    ("monthly_fee", "NaN", "Enter an amount in roubles"),
    ("monthly_fee", "5000000", "too large"),
    ("monthly_fee", HUGE, "Enter an amount in roubles"),
    ("switch_fee", "1.234", "Enter an amount in roubles"),
    ("minutes", "-1", "whole number"),
    ("minutes", "1.5", "whole number"),
    ("data_mb", HUGE, "whole number"),
    ("sms", "", "required"),
    ("code", "x" * 10_000, "40 characters"),
    ("code", "no spaces", "Latin letters"),
    ("name", "n" * 10_000, "100 characters"),
    ("region", "r" * 10_000, "64 characters"),
    ("kind", "satellite", "Choose from the list."),
    ("description", "d" * 10_000, "2000 characters"),
])
def test_bad_tariff_input_is_shown_next_to_its_field(admin, db_session, field, value, message):
    response = admin.post_form("/admin/catalog/tariffs/new", tariff_form(**{field: value}))
    assert response.status_code == 422
    assert message in (error_of(response.text, field) or ""), error_of(response.text, field)
    assert HUGE not in response.text  # what was typed comes back cut short
    assert db_session.scalar(select(func.count(Tariff.id))) == 0 and actions(db_session) == []


def test_a_form_with_nothing_in_it_is_refused_field_by_field(admin, db_session):
    response = admin.post_form("/admin/catalog/tariffs/new")
    assert response.status_code == 422
    for field in ("code", "name", "kind", "monthly_fee", "switch_fee", "minutes", "sms", "mms", "data_mb"):
        assert error_of(response.text, field), field
    response = admin.post_form("/admin/catalog/services/new")
    assert response.status_code == 422
    for field in ("code", "name", "category", "kind", "connection_fee", "monthly_fee"):
        assert error_of(response.text, field), field


def test_a_duplicate_code_is_refused_next_to_the_code(admin, db_session, catalog):
    response = admin.post_form("/admin/catalog/tariffs/new", tariff_form(code="SMART"))
    assert response.status_code == 422 and error_of(response.text, "code") == "This code is already used."
    response = admin.post_form("/admin/catalog/services/new", service_form(code="who"))
    assert response.status_code == 422 and error_of(response.text, "code") == "This code is already used."


def test_with_htmx_the_form_comes_back_alone_or_the_page_is_loaded(admin, db_session):
    headers = {"HX-Request": "true"}
    bad = admin.post_form("/admin/catalog/tariffs/new", tariff_form(monthly_fee="x"), headers=headers)
    assert bad.status_code == 422 and bad.text.lstrip().startswith('<form id="tariff-form"')
    good = admin.post_form("/admin/catalog/tariffs/new", tariff_form(), headers=headers)
    assert good.status_code == 204 and good.headers["HX-Redirect"] == "/admin/catalog"


def test_a_post_without_a_token_is_refused(admin, db_session, catalog):
    assert admin.post("/admin/catalog/tariffs/new", data=tariff_form()).status_code == 400
    assert admin.post(f"/admin/catalog/tariffs/{catalog['smart'].id}/archive").status_code == 400
    db_session.expire_all()
    assert not db_session.get(Tariff, catalog["smart"].id).archived


def test_unknown_ids_are_404(admin):
    for url in ("/admin/catalog/tariffs/999", "/admin/catalog/services/999"):
        assert admin.get(url).status_code == 404
    for url in ("/admin/catalog/tariffs/999/archive", "/admin/catalog/services/999/restore"):
        assert admin.post_form(url).status_code == 404


def test_archiving_a_tariff_keeps_the_accounts_on_it(admin, client, db_session, catalog):
    smart = catalog["smart"]
    account = factories.make_line(db_session, "+79031112233", tariff=smart, balance=7000)
    db_session.commit()
    page = admin.get(f"/admin/catalog/tariffs/{smart.id}").text
    assert f'action="/admin/catalog/tariffs/{smart.id}/archive"' in page
    assert admin.post_form(f"/admin/catalog/tariffs/{smart.id}/archive").status_code == 303
    db_session.expire_all()
    account = db_session.get(Account, account.id)
    assert db_session.get(Tariff, smart.id).archived
    assert (account.tariff_id, account.balance, account.status) == (smart.id, 7000, "active")
    page = admin.get(f"/admin/catalog/tariffs/{smart.id}").text
    assert f'action="/admin/catalog/tariffs/{smart.id}/restore"' in page and "Offer again" in page
    assert admin.post_form(f"/admin/catalog/tariffs/{smart.id}/restore").status_code == 303
    db_session.expire_all()
    assert not db_session.get(Tariff, smart.id).archived
    assert [a[:2] for a in actions(db_session)] == [("tariff_archived", "smart"), ("tariff_restored", "smart")]


def test_an_archived_tariff_leaves_the_customers_catalog(admin, db_session, catalog):
    account = factories.make_line(db_session, "+79161234567", tariff=catalog["old"])
    factories.make_login(db_session, account)
    db_session.commit()
    customer = admin.application.test_client()
    customer.post_form("/auth/login", {"phone": "+79161234567", "password": factories.PASSWORD})
    assert "Smart" in customer.get("/tariffs/").text
    admin.post_form(f"/admin/catalog/tariffs/{catalog['smart'].id}/archive")
    page = customer.get("/tariffs/").text
    assert f'id="tariff-{catalog["smart"].id}"' not in page
    assert "Your tariff: Old Smart." in page  # the archived tariff stays the account's own


# ---- services --------------------------------------------------------------------------

def test_the_service_form_offers_live_tariffs_by_kind_and_other_services(admin, catalog):
    page = admin.get(f"/admin/catalog/services/{catalog['who'].id}").text
    tariffs = re.search(r'<select[^>]*name="tariff_ids".*?</select>', page, re.DOTALL).group(0)
    assert f'<optgroup label="Mobile"><option value="{catalog["smart"].id}">Smart (smart)</option>' in tariffs
    assert f'<optgroup label="Home internet"><option value="{catalog["home"].id}">Home 100' in tariffs
    assert "Old Smart" not in tariffs
    conflicts = re.search(r'<select[^>]*name="conflict_ids".*?</select>', page, re.DOTALL).group(0)
    assert "Gone service (gone, archived)" in conflicts and "Who called" not in conflicts


def test_an_admin_creates_a_service_with_tariffs_and_conflicts(admin, db_session, catalog):
    response = admin.post_form("/admin/catalog/services/new", service_form(
        tariff_ids=[str(catalog["smart"].id)], conflict_ids=[str(catalog["who"].id)], refund_unused="y"))
    assert response.status_code == 303
    service = db_session.scalar(select(Service).where(Service.code == "hidden"))
    assert (service.connection_fee, service.monthly_fee, service.refund_unused) == (3000, 3900, True)
    assert [t.code for t in service.tariffs] == ["smart"] and [s.code for s in service.conflicts] == ["who"]
    assert [a[:2] for a in actions(db_session)] == [("service_created", "hidden")]
    page = admin.get(f"/admin/catalog/services/{service.id}").text
    assert re.search(rf'<option selected value="{catalog["who"].id}">', page)


@pytest.mark.parametrize(("changes", "field", "message"), [
    (dict(tariff_ids=["abc"]), "tariff_ids", "Choose from the list."),
    (dict(tariff_ids=["999"]), "tariff_ids", "Choose from the list."),
    (dict(conflict_ids=[HUGE]), "conflict_ids", "Choose from the list."),
    (dict(category="casino"), "category", "Choose from the list."),
    (dict(kind="tv", category="tv"), "tariff_ids", "is a tariff of another kind"),
    (dict(connection_fee="-1"), "connection_fee", "cannot be negative"),
    (dict(monthly_fee=HUGE), "monthly_fee", "Enter an amount in roubles"),
    (dict(name="x" * 10_000), "name", "100 characters"),
])
def test_bad_service_input_is_shown_next_to_its_field(admin, db_session, catalog, changes, field, message):
    form = service_form(**{"tariff_ids": [str(catalog["smart"].id)], **changes})
    response = admin.post_form("/admin/catalog/services/new", form)
    assert response.status_code == 422
    assert message in (error_of(response.text, field) or ""), response.text
    assert db_session.scalar(select(func.count(Service.id))) == 2


def test_an_archived_tariff_already_linked_stays_linked_on_edit(admin, db_session, catalog):
    who = catalog["who"]
    who.tariffs.append(catalog["old"])
    db_session.commit()
    page = admin.get(f"/admin/catalog/services/{who.id}").text
    assert f'<option selected value="{catalog["old"].id}">Old Smart (old, archived)</option>' in page
    form = service_form(code="who", name="Who called, renamed", tariff_ids=[str(catalog["old"].id)])
    assert admin.post_form(f"/admin/catalog/services/{who.id}", form).status_code == 303
    db_session.expire_all()
    assert [t.code for t in db_session.get(Service, who.id).tariffs] == ["old"]


def test_archiving_a_service_keeps_its_subscriptions(admin, db_session, catalog):
    who = catalog["who"]
    subscription = factories.make_subscription(db_session, factories.make_line(db_session), who)
    db_session.commit()
    assert admin.post_form(f"/admin/catalog/services/{who.id}/archive").status_code == 303
    db_session.expire_all()
    assert db_session.get(Service, who.id).archived
    assert db_session.get(Subscription, subscription.id).status == "active"
    assert admin.post_form(f"/admin/catalog/services/{catalog['gone'].id}/restore").status_code == 303
    db_session.expire_all()
    assert not db_session.get(Service, catalog["gone"].id).archived
    assert [a[:2] for a in actions(db_session)] == [("service_archived", "who"), ("service_restored", "gone")]


# ---- weight ----------------------------------------------------------------------------

def test_a_full_catalog_fits_the_page_budget(admin, db_session):
    for n in range(20):
        factories.make_tariff(db_session, code=f"tariff-{n}", name=f"Tariff number {n}", archived=n % 4 == 0)
    tariffs = list(db_session.scalars(select(Tariff)))
    for n in range(50):
        factories.make_service(db_session, code=f"service-{n}", name=f"Service number {n}",
                               description="A fairly long description of what the service does. " * 3,
                               tariffs=tariffs[n % 5: n % 5 + 2])
    db_session.commit()
    service_id = db_session.scalar(select(Service.id).limit(1))
    for url in ("/admin/catalog", f"/admin/catalog/services/{service_id}", "/admin/catalog/tariffs/new"):
        response = admin.get(url)
        assert response.status_code == 200
        assert len(gzip.compress(response.data)) <= BUDGET, url
