"""Several numbers under one login: requests, staff review, switching, unlinking."""
from datetime import date

import pytest
from sqlalchemy import select

from portal.models import (
    Account,
    AuditEvent,
    Challenge,
    LinkRequest,
    Login,
    LoginAccount,
    LoginSession,
    SmsMessage,
    utcnow,
)
from tests import factories

HEAD, CHILD, STRANGER = "+79161234567", "+79161234568", "+79031112233"


@pytest.fixture
def family(db_session):
    """The head's login and the child's line: same owner, same region, Number management on both."""
    head = factories.ensure_login(db_session, HEAD)
    customer = head.primary_account.customer
    child = factories.make_line(db_session, CHILD, customer=customer)
    service = factories.make_service(db_session, category="number_management", monthly_fee=0,
                                     name="Number management")
    for account in (head.primary_account, child):
        factories.make_subscription(db_session, account, service)
    db_session.commit()
    return {"head": head, "child": child, "service": service}


@pytest.fixture
def signed_in(client, login_as, family):
    login_as(HEAD)
    return client


@pytest.fixture
def staff_client(app, db_session):
    factories.make_staff(db_session, email="agent@example.com")
    client = app.test_client()
    response = client.post_form("/admin/login", {"email": "agent@example.com", "password": factories.PASSWORD})
    assert response.status_code == 303
    return client


def send_request(client, numbers=CHILD):
    return client.post_form("/numbers/link", {"numbers": numbers})


def pending(db_session):
    return db_session.scalar(select(LinkRequest).where(LinkRequest.status == "pending"))


def test_a_request_is_saved_with_its_due_date_and_shown(signed_in, db_session, family):
    response = send_request(signed_in, "8 916 123-45-68")
    assert response.status_code == 303
    link = pending(db_session)
    assert [n.account_id for n in link.numbers] == [family["child"].id]
    assert link.due_on > date.today()
    page = signed_in.get("/numbers/").text
    assert "+7 916 123-45-68" in page and "under review" in page
    assert db_session.scalar(select(AuditEvent.action).where(AuditEvent.action == "link_requested"))
    # While pending, the number is not managed: its pages give 404.
    assert signed_in.post_form("/numbers/focus", {"account": family["child"].id}).status_code == 404


@pytest.mark.parametrize(("numbers", "message"), [
    ("", "Type at least one number"),
    ("12", "not a phone number"),
    (STRANGER, "only numbers registered to you"),
    ("+79990000000", "only numbers registered to you"),  # not ours at all: the same answer
    (HEAD, "already in your list"),
])
def test_bad_requests_are_refused_next_to_the_field(signed_in, db_session, numbers, message):
    factories.make_line(db_session, STRANGER)
    db_session.commit()
    response = send_request(signed_in, numbers)
    assert response.status_code == 422
    assert message in response.text and 'aria-invalid="true"' in response.text
    assert db_session.scalar(select(LinkRequest)) is None


def test_region_and_the_number_management_service_are_required(signed_in, db_session, family):
    family["child"].region = "Saint Petersburg"
    other = factories.make_line(db_session, "+79161234569", customer=family["head"].primary_account.customer)
    db_session.commit()
    assert "another region" in send_request(signed_in).text
    response = send_request(signed_in, "+79161234569")
    assert response.status_code == 422 and "*111*828*1#" in response.text
    assert other.id not in {n.account_id for r in db_session.scalars(select(LinkRequest)) for n in r.numbers}


def test_a_number_cannot_be_requested_twice_while_pending(signed_in, db_session):
    send_request(signed_in)
    response = send_request(signed_in)
    assert response.status_code == 422 and "waiting for review" in response.text


def test_too_many_numbers_in_one_request(signed_in, app):
    app.config["LINK_MAX_NUMBERS"] = 2
    response = send_request(signed_in, "+79161234501, +79161234502, +79161234503")
    assert response.status_code == 422 and "At most 2 numbers" in response.text


def test_withdraw_only_own_pending_requests(signed_in, db_session, app):
    send_request(signed_in)
    link = pending(db_session)
    other = app.test_client()
    factories.ensure_login(db_session, STRANGER)
    other.post_form("/auth/login", {"phone": STRANGER, "password": factories.PASSWORD})
    assert other.post_form(f"/numbers/requests/{link.id}/withdraw").status_code == 404
    assert signed_in.post_form(f"/numbers/requests/{link.id}/withdraw").status_code == 303
    db_session.expire_all()
    assert db_session.get(LinkRequest, link.id).status == "withdrawn"
    assert signed_in.post_form(f"/numbers/requests/{link.id}/withdraw").status_code == 303  # a second click


def test_staff_approve_then_the_number_is_switchable(signed_in, staff_client, db_session, family):
    send_request(signed_in)
    link = pending(db_session)
    queue = staff_client.get("/admin/links").text
    assert "+7 916 123-45-68" in queue
    assert staff_client.get(f"/admin/links/{link.id}").status_code == 200
    response = staff_client.post_form(f"/admin/links/{link.id}/approve")
    assert response.status_code == 303
    db_session.expire_all()
    assert db_session.get(LinkRequest, link.id).status == "approved"
    child = family["child"]
    assert db_session.get(LoginAccount, (family["head"].id, child.id))
    # The added number has a login of its own now, with a new temporary password sent to it.
    own = db_session.scalar(select(Login).where(Login.primary_account_id == child.id))
    assert db_session.scalar(select(Challenge).where(Challenge.login_id == own.id))
    texts = {m.to: m.purpose for m in db_session.scalars(select(SmsMessage))}
    assert texts[CHILD] == "password" and texts[HEAD] == "notice"

    page = signed_in.get("/").text
    assert 'id="switch-account"' in page
    response = signed_in.post_form("/numbers/focus", {"account": child.id, "next": "/payments/history"})
    assert response.status_code == 303 and response.headers["Location"] == "/payments/history"
    assert "+7 916 123-45-68" in signed_in.get("/").text.split("<main")[1]
    # Acting as the child: the audit says so.
    signed_in.get("/numbers/")
    assert db_session.scalar(select(AuditEvent).where(AuditEvent.action == "link_approved")).staff_id


def test_approving_revokes_the_added_numbers_old_password_and_sessions(signed_in, staff_client, db_session, family):
    own = factories.make_login(db_session, family["child"])
    db_session.add(LoginSession(token="child-session", login_id=own.id))
    db_session.commit()
    send_request(signed_in)
    staff_client.post_form(f"/admin/links/{pending(db_session).id}/approve")
    db_session.expire_all()
    assert db_session.get(Login, own.id).password_hash is None
    assert db_session.scalar(select(LoginSession).where(LoginSession.token == "child-session")).revoked_at


def test_approval_checks_the_rules_again(signed_in, staff_client, db_session, family):
    send_request(signed_in)
    link = pending(db_session)
    family["child"].region = "Saint Petersburg"
    db_session.commit()
    response = staff_client.post_form(f"/admin/links/{link.id}/approve")
    assert response.status_code == 422 and "another region" in response.text
    db_session.expire_all()
    assert db_session.get(LinkRequest, link.id).status == "pending"


def test_staff_reject_with_a_reason_the_customer_sees(signed_in, staff_client, db_session):
    send_request(signed_in)
    link = pending(db_session)
    response = staff_client.post_form(f"/admin/links/{link.id}/reject", {"reason": ""})
    assert response.status_code == 422 and "Say why" in response.text
    response = staff_client.post_form(f"/admin/links/{link.id}/reject", {"reason": "The SIM card is a company one"})
    assert response.status_code == 303
    assert "The SIM card is a company one" in signed_in.get("/numbers/").text
    assert staff_client.post_form(f"/admin/links/{link.id}/approve").status_code == 422  # already decided
    assert staff_client.get("/admin/links/999999").status_code == 404


def test_overdue_requests_are_marked_in_the_queue(signed_in, staff_client, db_session):
    send_request(signed_in)
    link = pending(db_session)
    link.due_on = date(2026, 1, 5)
    db_session.commit()
    assert "overdue" in staff_client.get("/admin/links").text


def link_child(db_session, family):
    db_session.add(LoginAccount(login_id=family["head"].id, account_id=family["child"].id, created_at=utcnow()))
    db_session.commit()
    return family["child"]


def test_the_switcher_follows_pages_and_falls_back_after_unlinking(signed_in, db_session, family):
    child = link_child(db_session, family)
    signed_in.post_form("/numbers/focus", {"account": child.id})
    assert "+7 916 123-45-68" in signed_in.get("/").text.split("<main")[1]
    page = signed_in.get(f"/numbers/{child.id}/unlink")
    assert page.status_code == 200
    assert signed_in.post_form(f"/numbers/{child.id}/unlink", {}).status_code == 422  # not confirmed
    assert signed_in.post_form(f"/numbers/{child.id}/unlink", {"confirm": "y"}).status_code == 303
    assert db_session.get(LoginAccount, (family["head"].id, child.id)) is None
    assert "+7 916 123-45-67" in signed_in.get("/").text.split("<main")[1]  # back on the own number
    assert db_session.scalar(select(AuditEvent).where(AuditEvent.action == "number_unlinked"))


def test_foreign_and_own_numbers_cannot_be_switched_to_or_unlinked(signed_in, db_session, family):
    stranger = factories.ensure_login(db_session, STRANGER)
    own = family["head"].primary_account_id
    for url in (f"/numbers/{stranger.primary_account_id}/unlink", f"/numbers/{own}/unlink", "/numbers/999999/unlink"):
        assert signed_in.get(url).status_code == 404
    assert signed_in.post_form("/numbers/focus", {"account": stranger.primary_account_id}).status_code == 404
    assert signed_in.post_form("/numbers/focus", {"account": "x"}).status_code == 404


def test_the_switch_never_redirects_to_another_site(signed_in, db_session, family):
    child = link_child(db_session, family)
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        response = signed_in.post_form("/numbers/focus", {"account": child.id, "next": target})
        assert response.headers["Location"] == "/"


def test_a_linked_number_of_another_login_gives_404(signed_in, db_session, family, app):
    other = factories.ensure_login(db_session, STRANGER)
    third = factories.make_line(db_session, "+79031112299", customer=other.primary_account.customer)
    db_session.add(LoginAccount(login_id=other.id, account_id=third.id))
    db_session.commit()
    assert signed_in.post_form("/numbers/focus", {"account": third.id}).status_code == 404
    assert signed_in.get(f"/numbers/{third.id}/unlink").status_code == 404
    assert db_session.get(Account, third.id).status == "active"


def test_the_archive_shows_requests_and_decisions(signed_in, staff_client, db_session):
    send_request(signed_in)
    staff_client.post_form(f"/admin/links/{pending(db_session).id}/reject", {"reason": "Not the owner's SIM"})
    page = signed_in.get("/archive?kind=numbers").text
    assert "Request to add numbers" in page and "Request to add numbers not approved" in page


def test_the_transfer_page_offers_the_other_numbers_of_the_login(signed_in, db_session, family):
    assert 'id="own-lines"' not in signed_in.get("/payments/transfer").text
    link_child(db_session, family)
    page = signed_in.get("/payments/transfer").text
    assert "/payments/transfer?to=%2B79161234568" in page
    prefilled = signed_in.get("/payments/transfer?to=%2B79161234568").text
    assert 'value="+79161234568"' in prefilled


def add_home_contract(db_session, customer, contract_no="HC-100200", contact=HEAD):
    from portal.models import HomeContract

    account = Account(customer=customer, kind="home", region=customer.region, balance=0)
    db_session.add_all([account, HomeContract(account=account, contract_no=contract_no, address="Moscow",
                                              connection_type="gpon", contact_phone=contact)])
    db_session.commit()
    return account


def home_code(db_session) -> str:
    import re

    text = db_session.scalars(select(SmsMessage.text).where(SmsMessage.purpose == "home_link_code")
                              .order_by(SmsMessage.id.desc())).first()
    return re.search(r"\b(\d{6})\b", text).group(1)


def test_a_home_contract_joins_with_a_code_to_its_contact_phone(signed_in, db_session, family):
    home = add_home_contract(db_session, family["head"].primary_account.customer, contact="+79031119999")
    response = signed_in.post_form("/numbers/home", {"contract": "hc100200"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/numbers/home/confirm")
    assert db_session.scalar(select(SmsMessage.to).where(SmsMessage.purpose == "home_link_code")) == "+79031119999"
    wrong = signed_in.post_form("/numbers/home/confirm", {"code": "999999" if home_code(db_session) != "999999"
                                                          else "000000"})
    assert wrong.status_code == 422
    response = signed_in.post_form("/numbers/home/confirm", {"code": home_code(db_session)})
    assert response.status_code == 303
    assert db_session.get(LoginAccount, (family["head"].id, home.id))
    page = signed_in.get("/").text
    assert 'id="switch-account"' in page and "HC-100200" in page


def test_a_home_contract_of_another_owner_or_unknown_is_refused_alike(signed_in, db_session, family):
    add_home_contract(db_session, factories.make_customer(db_session), contract_no="HC-555555")
    for typed in ("HC-555555", "HC-000001", "not a contract"):
        response = signed_in.post_form("/numbers/home", {"contract": typed})
        assert response.status_code == 422 and "cannot be added" in response.text
    assert db_session.scalar(select(SmsMessage).where(SmsMessage.purpose == "home_link_code")) is None


def test_the_confirm_step_without_a_code_sent_goes_back(signed_in):
    response = signed_in.get("/numbers/home/confirm")
    assert response.status_code == 303 and response.headers["Location"].endswith("/numbers/home")


def test_the_approval_sms_is_in_the_heads_language_and_agrees_with_one_number(signed_in, staff_client, db_session,
                                                                               family):
    family["head"].language = "ru"  # the portal's default here is English
    db_session.commit()
    send_request(signed_in)
    staff_client.post_form(f"/admin/links/{pending(db_session).id}/approve")
    notice = db_session.scalar(select(SmsMessage).where(SmsMessage.to == HEAD, SmsMessage.purpose == "notice"))
    assert "номер +7 916 123-45-68 добавлен в ваш личный кабинет" in notice.text
