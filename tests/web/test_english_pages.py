"""In English nothing Russian shows except the operator's data, on every customer page a customer reaches.

The portal runs with its real default (Russian), the customers chose English; the operator's data (catalog,
channel and melody names, the customer's name and address) is Russian, as in the demo, and so are the
statement lines the ledger stores. Every GET route of ``app.url_map`` is opened by a mobile line's login and
by a home contract's login.
"""
import re
from datetime import date, timedelta

import pytest
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.domain import feed, ledger, paylink
from portal.domain.audit import SYSTEM
from portal.domain.documents import consent
from portal.models import (
    BonusAccount,
    BonusEntry,
    CardPayment,
    Customer,
    DetailOrder,
    DocumentAcceptance,
    HomeContract,
    LinkRequest,
    LinkRequestNumber,
    LoginAccount,
    Melody,
    Passkey,
    PolicyDocument,
    Reward,
    Service,
    ServiceNotice,
    ServiceNoticeUpdate,
    SocialAccount,
    SupportMessage,
    SupportRequest,
    Tariff,
    Transfer,
    TvChannel,
    UsageRecord,
    utcnow,
)
from tests import factories, home_fixtures
from tests.conftest import SECRET

CYRILLIC = re.compile(r"[А-Яа-яЁё][А-Яа-яЁё\w .,:;«»()\-]*")
# Besides the operator's data: each language's name in itself on the switch.
ALWAYS_ALLOWED = ("Русский",)
NOT_PAGES = re.compile(r"^/(admin|static|dev)\b|\.(csv|pdf|wav|png|ico|json)$|\.<|^/auth/captcha|/pictures/")


@pytest.fixture
def config_overrides():
    # the operator's language, as in production; a sign-in provider draws its buttons and the devices page's section
    return {"BABEL_DEFAULT_LOCALE": "ru", "SOCIAL_PROVIDERS": {"yandex": {"client_id": "y"}}}


@pytest.fixture
def ids(db_session):
    """A demo-like mobile customer and a home contract, both reading in English, with one of everything."""
    customer = factories.make_customer(db_session, name="Анна Петрова", region="Москва")
    tariff = factories.make_tariff(db_session, name="Смарт", description="Самое нужное: 300 минут и 5 ГБ.")
    other_tariff = factories.make_tariff(db_session, name="Безлимит", description="Без ограничений.")
    line = factories.make_line(db_session, "+79161234567", customer=customer, tariff=tariff, balance=50000)
    login = factories.make_login(db_session, line, language="en")
    factories.make_allowance(db_session, line)
    service = factories.make_service(db_session, name="Кто звонил", description="SMS о пропущенных вызовах.")
    paid = factories.make_service(db_session, name="Онлайн-кино", category="subscription", monthly_fee=29900)
    subscription = factories.make_subscription(db_session, line, paid)
    factories.make_subscription(db_session, line, service)
    melody = factories.make_service(db_session, name="Калинка", category="ringback", monthly_fee=0, daily_fee=50)
    db_session.add(Melody(service_id=melody.id, artist="Народная", tune="E5:1"))
    reward = Reward(code="gb-1", name="1 ГБ интернета", kind="data_mb", quantity=1024, cost=250)
    db_session.add(reward)
    now = utcnow()
    for description in (_l("Tariff changed to %(name)s", name="Смарт"), _l("Promised payment fee"),
                        _l("Monthly fee while paused until %(date)s", date=date(2027, 1, 31)),
                        _l("Card *%(last4)s", last4="4417")):
        ledger.post(db_session, line, amount=-100, kind="service_fee", key=None, description=description, now=now)
    # A top-up with its operation code: its receipt and "find by code" are pages too.
    topup = ledger.post(db_session, line, amount=30000, kind="card_topup", key="card:english",
                        description=_l("Card *%(last4)s", last4="4417"), now=now)
    db_session.add_all([BonusAccount(account_id=line.id, points=10),
                        BonusEntry(account_id=line.id, points=10, kind="earned", description="За 11.2026",
                                   params={"kind": "bonus_for_month", "month": "2026-11-01"}, created_at=now)])
    payment = CardPayment(token="t" * 24, account_id=line.id, amount=50000, idempotency_key="p" * 24,
                          status="pending", provider="dev", gateway_ref="dev_ref", confirmation_url="/dev/pay/dev_ref")
    other = factories.make_line(db_session, "+79031112233")
    transfer = Transfer(token="r" * 24, from_account_id=line.id, to_account_id=other.id, amount=150000,
                        status="pending_code", idempotency_key="q" * 24)
    linked = factories.make_line(db_session, "+79161234568", customer=customer, tariff=tariff)
    link = LinkRequest(login_id=login.id, due_on=date.today() + timedelta(days=2),
                       numbers=[LinkRequestNumber(account_id=other.id)])
    order = DetailOrder(account_id=line.id, login_id=login.id, period_start=date.today(), period_end=date.today(),
                        format="pdf", email="a@example.com", idempotency_key="d" * 24)
    db_session.add_all([payment, transfer, link, order, LoginAccount(login_id=login.id, account_id=linked.id)])
    db_session.add_all([UsageRecord(account_id=line.id, started_at=now - timedelta(hours=i), kind=kind,
                                    counterpart="+79031112233" if kind != "data" else "internet",
                                    quantity=quantity, cost=100)
                        for i, (kind, quantity) in enumerate([("call_out", 75), ("sms", 1), ("data", 7_379_149)])])

    request = SupportRequest(account_id=line.id, login_id=login.id, category="quality", subject="Slow internet",
                             state="waiting")
    db_session.add(request)
    db_session.flush()
    db_session.add_all([SupportMessage(request_id=request.id, login_id=login.id, text="Slow internet")])

    home = home_fixtures.make_home(db_session, contract_no="HC-100200", customer=customer)
    db_session.get(HomeContract, home.id).address = "Москва, Тверская улица, 1, кв. 2"
    home_fixtures.make_catalog(db_session)
    factories.make_login(db_session, home, language="en")
    db_session.add_all([UsageRecord(account_id=home.id, started_at=now - timedelta(hours=7 * i), kind="data",
                                    quantity=1024 * (900 + i), ended_at=now - timedelta(hours=7 * i - 3),
                                    ip="100.64.123.45") for i in range(1, 30)])
    notice = ServiceNotice(kind="works", title="Замена оборудования", text="Интернет не будет работать ночью.",
                           scope="address", scope_value="Москва, Тверская улица, 1", starts_at=now,
                           expected_end=now + timedelta(hours=3), state="in_progress")
    db_session.add(notice)
    db_session.flush()
    db_session.add(ServiceNoticeUpdate(notice_id=notice.id, text="Работы идут.", state_to="in_progress"))
    social_account = SocialAccount(login_id=login.id, provider="vk", subject="1001", shown="iv***@vk.com")
    db_session.add(social_account)
    consent.publish(db_session, slug="terms", title="Условия оказания услуг", body="Текст условий.\n\nЕщё пункт.",
                    actor=SYSTEM, now=now)
    db_session.commit()
    return dict(tariff_id=other_tariff.id, service_id=service.id, subscription_id=subscription.id,
                payment=payment.token, transfer=transfer.token, order_id=order.id, melody_id=melody.id,
                mobile=line.id, linked=linked.id, home=home.id, reward_id=reward.id, code=topup.code,
                notice_id=notice.id, request_id=request.id, slug="terms",
                key=feed.make_key(db_session, login_id=login.id, name="Widget", actor=SYSTEM, now=now).secret,
                passkey_id=_passkey(db_session, login).id,
                paylink=paylink.make_token(line.id, secret=SECRET),
                provider="unconfigured", link_id=social_account.id)  # the provider's redirects: 404 here


def _passkey(db_session, login) -> Passkey:
    passkey = Passkey(login_id=login.id, credential_id="cred", user_handle="u", public_key=b"k", name="Phone",
                      last_used_at=utcnow())
    db_session.add(passkey)
    db_session.commit()
    return passkey


def operator_data(db_session) -> list[str]:
    """Texts the operator writes in its own language: allowed in any interface language."""
    texts = [*ALWAYS_ALLOWED]
    for column in (Tariff.name, Tariff.description, Service.name, Service.description, Customer.name,
                   Customer.region, HomeContract.address, Melody.artist, TvChannel.name, Reward.name,
                   ServiceNotice.title, ServiceNotice.text, ServiceNotice.scope_value, ServiceNoticeUpdate.text,
                   PolicyDocument.title):
        texts += [t for t in db_session.scalars(select(column)) if t]
    for body in db_session.scalars(select(PolicyDocument.body)):  # shown a paragraph at a time
        texts += body.split("\n\n")
    return sorted(set(texts), key=len, reverse=True)


def customer_urls(app, ids: dict, account_id: int) -> list[str]:
    """Every customer GET route, its arguments taken from the fixture."""
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or NOT_PAGES.search(rule.rule):
            continue
        values = {}
        for argument in rule.arguments:
            if argument == "token":
                values[argument] = ids["transfer"] if "transfer" in rule.rule else \
                    ids["paylink"] if rule.rule.startswith("/p/") else ids["payment"]
            elif argument == "account_id":
                values[argument] = ids["linked"] if "unlink" in rule.rule else account_id
            else:
                values[argument] = ids[argument]
        url = rule.rule if not values else re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m[1]]), rule.rule)
        # The public status pages are in their URL's language (one page for every reader): the dashboard links
        # them with the reader's.
        urls.append(url + "?lang=en" if url.startswith("/status") else url)
    return sorted(set(urls))


def russian_left(html: str, allowed: list[str]) -> list[str]:
    for text in allowed:
        html = html.replace(text, "")
    return [m.group(0).strip() for m in CYRILLIC.finditer(html)]


def test_an_english_reader_sees_no_russian_but_the_operators_data(app, db_session, ids):
    allowed = operator_data(db_session)
    leaks = {}
    for sign_in_as, account_id in (("+79161234567", ids["mobile"]), ("HC-100200", ids["home"])):
        client = app.test_client()
        assert client.post_form("/auth/login", {"phone": sign_in_as, "password": factories.PASSWORD}).status_code == 303
        for url in customer_urls(app, ids, account_id):
            response = client.get(url)
            assert response.status_code in (200, 302, 303, 404), (url, response.status_code)
            found = russian_left(response.get_data(as_text=True), allowed)
            if found:
                leaks[f"{sign_in_as} {url}"] = found[:5]
    visitor = app.test_client()
    visitor.post_form("/auth/language", {"lang": "en"})
    assert '<html lang="en"' in visitor.get("/auth/login").text
    for url in ("/auth/login", "/auth/password", "/auth/password/sent?phone=%2B79161234567", "/no-such-page"):
        found = russian_left(visitor.get(url).get_data(as_text=True), allowed)
        if found:
            leaks[f"visitor {url}"] = found[:5]
    assert not leaks, leaks


def test_a_russian_reader_never_sees_a_doubled_full_stop_after_a_date_or_a_currency_code(app, db_session, ids):
    from portal.models import Login

    for login in db_session.scalars(select(Login)):
        login.language = "ru"
    db_session.commit()
    problems = {}
    for sign_in_as, account_id in (("+79161234567", ids["mobile"]), ("HC-100200", ids["home"])):
        client = app.test_client()
        client.post_form("/auth/login", {"phone": sign_in_as, "password": factories.PASSWORD})
        for url in customer_urls(app, ids, account_id):
            html = client.get(url).get_data(as_text=True)
            found = re.findall(r".{30}(?:г\.\.|RUB).{10}", html)
            if found:
                problems[f"{sign_in_as} {url}"] = found[:3]
    assert not problems, problems


CODE = re.compile(r"\b[a-z0-9]+_[a-z0-9_]+\b")  # promised_repay, 3ds_failed, transfer_code …


def visible_text(html: str) -> str:
    html = re.sub(r"<(script|style|svg)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def test_staff_pages_show_states_in_words(app, db_session, ids):
    from portal.models import Account, LinkRequest, SavedAnswer, SmsMessage, SupportTopic

    factories.make_staff(db_session, role="admin")
    db_session.add_all([CardPayment(token="d" * 24, account_id=ids["mobile"], amount=100, idempotency_key="e" * 24,
                                    card_last4="1111", status="declined", decline_reason="3ds_failed"),
                        SmsMessage(to="+79161234567", text="x", purpose="transfer_code", status="queued")])
    terms = consent.current(db_session, ids["slug"])
    login_id = factories.ensure_login(db_session, "+79161234567").id
    acceptance = DocumentAcceptance(document_id=terms.id, login_id=login_id, document_hash=terms.body_hash,
                                    code_hash="x", phone="+79161234567")
    answer = SavedAnswer(title="Late payment", text="Hello {name}", topic_id=db_session.scalar(select(SupportTopic.id)))
    db_session.add_all([acceptance, answer])
    db_session.commit()
    customer_id = db_session.get(Account, ids["mobile"]).customer_id
    values = {"customer_id": customer_id, "account_id": ids["home"], "tariff_id": ids["tariff_id"],
              "service_id": ids["service_id"], "request_id": db_session.scalar(select(LinkRequest.id)),
              "notice_id": ids["notice_id"], "acceptance_id": acceptance.id,
              "topic_id": answer.topic_id, "answer_id": answer.id}
    staff = app.test_client()
    assert staff.post_form("/admin/login", {"email": "agent@example.com",
                                            "password": factories.PASSWORD}).status_code == 303
    codes = {}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/admin") or "GET" not in rule.methods or "/pictures/" in rule.rule:
            continue
        route_values = {**values, "request_id": ids["request_id"]} if "/support" in rule.rule else values
        url = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(route_values[m[1]]), rule.rule)
        response = staff.get(url)
        assert response.status_code in (200, 302, 303), (url, response.status_code)
        found = set(CODE.findall(visible_text(response.get_data(as_text=True))))
        if found:
            codes[url] = sorted(found)
    assert not codes, codes
