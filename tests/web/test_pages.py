"""Every page: security headers, no inline script or style, and the 14 KB budget (docs/architecture.md §6)."""
import gzip
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal.domain import feed, paylink
from portal.domain.audit import SYSTEM
from portal.domain.documents import consent
from portal.models import (
    CardPayment,
    DetailOrder,
    DevPayment,
    DocumentAcceptance,
    LedgerEntry,
    LinkRequest,
    LinkRequestNumber,
    LocatorConsent,
    LocatorLookup,
    LoginAccount,
    Melody,
    Passkey,
    PolicyDocument,
    Reward,
    SavedAnswer,
    ServiceNotice,
    ServiceNoticeUpdate,
    SocialAccount,
    Staff,
    SupportAttachment,
    SupportMessage,
    SupportRequest,
    SupportTopic,
    Transfer,
    UsageRecord,
    utcnow,
)
from tests import factories
from tests.helpers import captcha_token

PUBLIC = ["/auth/login", "/auth/password", "/auth/password/sent?phone=%2B79161234567", "/admin/login",
          "/admin/login/passkey",
          "/no-such-page", "/status", "/status?lang=ru", "/status/{notice}"]
CUSTOMER = ["/", "/?block=allowances", "/archive", "/documents", "/documents/agreements/{agreement}",
            "/numbers/", "/numbers/link", "/numbers/{linked}/unlink",
            "/numbers/home", "/numbers/details", "/numbers/details/orders/{order}",
            "/settings/", "/settings/password", "/settings/preferences", "/settings/sessions", "/settings/contracts",
            "/settings/close", "/settings/alerts", "/settings/forwarding", "/settings/blacklist", "/settings/voicemail",
            "/settings/ringback", "/settings/ringback/melodies/{melody}",
            "/settings/missed-calls", "/settings/internet", "/settings/feed", "/settings/code-word",
            "/settings/passkeys/{passkey}",
            "/tariffs/", "/tariffs/compare",
            "/tariffs/{tariff}",
            "/services/", "/services/{service}", "/services/subscriptions",
            "/services/subscriptions/{subscription}/disconnect", "/payments/", "/payments/topup", "/payments/history",
            "/payments/transfer", "/payments/voucher", "/payments/promised", "/payments/auto", "/payments/bonus",
            "/payments/bonus/rewards/{reward}",
            "/payments/{payment}", "/payments/{sbp}/sbp", "/payments/receipts/{receipt}", "/payments/find",
            "/payments/find?code={receipt}",
            "/dev/pay/{devpay}", "/dev/pay/{dev3ds}/3ds", "/dev/sbp/{devsbp}", "/payments/transfer/{transfer}",
            "/numbers/{line}/",
            "/numbers/{line}/block?reason=lost", "/numbers/{line}/unblock", "/numbers/sms",
            "/home/pause",  # a home contract's page (404 for this mobile login; tests/web/account/test_home_pause.py)
            # a mobile line gets 404 on /home pages; tests/web/home weighs them for a home contract
            "/home/tv", "/home/tv/pin", "/home/extras", "/home/tv/subscriptions/{subscription}/disconnect",
            "/home/tv/{service}/connect", "/home/extras/{service}/connect",
            "/home/extras/subscriptions/{subscription}/disconnect",
            "/support/", "/support/{support}", "/auth/social/accounts/{social}/unlink",
            "/locator/", "/locator/me"]
# Pages of a home contract in focus (a mobile line gets 404 there): a contract with a busy month of sessions.
HOME = ["/numbers/traffic", "/numbers/traffic/sessions", "/documents"]
STAFF = ["/admin/", "/admin/?q=Customer", "/admin/?q={receipt}", "/admin/documents", "/admin/acceptances/{acceptance}",
         "/admin/links", "/admin/links/{link}", "/admin/sms",
         "/admin/provisioning", "/admin/vouchers",
         "/admin/customers/{customer}", "/admin/accounts/{linked}/terminate",
         "/admin/customers/{customer}/home-contracts/new", "/admin/accounts/{home}/home-status",
         "/admin/catalog",
         "/admin/catalog/tariffs/new", "/admin/catalog/tariffs/{tariff}", "/admin/catalog/services/new",
         "/admin/catalog/services/{service}", "/admin/notices", "/admin/notices/new", "/admin/notices/{notice}",
         "/admin/support", "/admin/support?view=overdue&category=money", "/admin/support/{support}",
         "/admin/support/topics", "/admin/support/topics/{topic}", "/admin/support/answers",
         "/admin/support/answers/{answer}", "/admin/passkeys", "/admin/sim-actions"]
# Pay without a password: the signed link's page and a payment's outcome through it (nobody signed in).
PAY_LINK = ["/p/{paylink}", "/p/{paylink}/{paid}"]
# The balance feed, read with a key (no session): the widget's page and the JSON, by header and in the URL.
FEED = ["/feed/{feed}", "/feed/{feed}.json", "/feed.json"]
BUDGET = 14 * 1024


def every_page(client, db_session, app):
    """Yield (url, response) for each page a customer, a visitor and staff can open."""
    notice = ServiceNotice(kind="outage", title="No internet in the building", text="A cable is cut.",
                           scope="address", scope_value="Moscow, Tverskaya 1", starts_at=utcnow(),
                           expected_end=utcnow() + timedelta(hours=2), state="fixing")
    db_session.add(notice)
    db_session.flush()
    db_session.add(ServiceNoticeUpdate(notice_id=notice.id, text="The crew is on site.", state_to="fixing"))
    db_session.commit()
    for url in PUBLIC:
        yield url, client.get(url.format(notice=notice.id))
    client.post_form("/auth/login", {"phone": "+79161234567", "password": factories.PASSWORD})
    tariff = factories.make_tariff(db_session, name="Other")
    service = factories.make_service(db_session)
    account = factories.ensure_login(db_session, "+79161234567").primary_account
    subscription = factories.make_subscription(db_session, account, factories.make_service(db_session))
    payment = CardPayment(token="t" * 24, account_id=account.id, amount=50000, idempotency_key="p" * 24,
                          status="pending", provider="dev", gateway_ref="dev_ref", confirmation_url="/dev/pay/dev_ref")
    at_provider = [DevPayment(reference="dev_ref", idempotence_key="p" * 24, amount=50000, description="Top-up",
                              return_url="http://localhost/payments/" + "t" * 24),
                   DevPayment(reference="dev_3ds", idempotence_key="3" * 24, amount=50000, description="Top-up",
                              status="waiting_3ds", card_last4="3220"),
                   DevPayment(reference="dev_sbp", idempotence_key="b" * 24, amount=1500000, description="Top-up",
                              method="sbp", return_url="http://localhost/payments/" + "s" * 24,
                              expires_at=utcnow() + timedelta(minutes=10))]
    # An СБП payment waiting with its QR code (the largest amount: the longest payload).
    sbp = CardPayment(token="s" * 24, account_id=account.id, amount=1500000, idempotency_key="b" * 24,
                      status="pending", provider="dev", gateway_ref="dev_sbp", method="sbp",
                      confirmation_url="/dev/sbp/dev_sbp", expires_at=utcnow() + timedelta(minutes=10),
                      qr_payload="http://localhost/dev/sbp/dev_sbp" + "x" * 24 + "?type=02&sum=1500000&cur=RUB")
    other = factories.make_line(db_session, "+79031112233")
    transfer = Transfer(token="r" * 24, from_account_id=account.id, to_account_id=other.id, amount=150000,
                        status="pending_code", idempotency_key="q" * 24)
    linked = factories.make_line(db_session, "+79161234568", customer=account.customer)
    login = factories.ensure_login(db_session, "+79161234567")
    link = LinkRequest(login_id=login.id, due_on=date.today(), numbers=[LinkRequestNumber(account_id=linked.id)])
    order = DetailOrder(account_id=account.id, login_id=login.id, period_start=date.today(), period_end=date.today(),
                        format="pdf", email="a@example.com", idempotency_key="d" * 24)
    melody = factories.make_service(db_session, category="ringback", monthly_fee=0, daily_fee=50)
    staff_id = db_session.scalar(select(Staff.id))
    reward = Reward(code="min-100", name="100 minutes", kind="minutes", quantity=100, cost=300)
    agreement = PolicyDocument(slug="terms", version=1, title="Terms", body="Text.\n\nMore.",
                               body_hash=consent.body_hash("Text.\n\nMore."))
    db_session.add(agreement)
    db_session.flush()
    acceptance = DocumentAcceptance(document_id=agreement.id, login_id=login.id, document_hash=agreement.body_hash,
                                    code_hash="x", phone="+79161234567")
    receipt = LedgerEntry(account_id=account.id, amount=50000, kind="card_topup", code="RECPT234",
                          description="Card *4242")
    db_session.add_all([payment, sbp, *at_provider, transfer, order, link, acceptance, receipt,
                        LoginAccount(login_id=login.id, account_id=linked.id),
                        Melody(service_id=melody.id, artist="Folk", tune="E5:1"), reward])
    db_session.flush()
    # A long thread: the longest text each side may write, an internal note among them.
    support = SupportRequest(account_id=account.id, login_id=login.id, category="money", subject="Where is my money?",
                             state="in_progress", awaiting_since=utcnow(), assigned_staff_id=None)
    db_session.add(support)
    db_session.flush()
    messages = [SupportMessage(request_id=support.id, login_id=login.id if i % 2 == 0 else None,
                               staff_id=None if i % 2 == 0 else staff_id, internal=i == 3,
                               text="Слово " * 150) for i in range(6)]
    db_session.add_all(messages)
    db_session.flush()
    # A photo on each of the customer's messages (the rows are enough for the page; the files are not read).
    db_session.add_all([SupportAttachment(message_id=m.id, stored_name=f"{m.id:032x}", original_name="IMG_0001.jpg",
                                          content_type="image/jpeg", size=150_000, width=1500, height=2000,
                                          thumb_width=240, thumb_height=320) for m in messages if m.login_id])
    topic = db_session.scalar(select(SupportTopic).where(SupportTopic.code == "money"))
    # Saved answers of the longest title and text: the request page lists them, their own page shows one.
    passkey = Passkey(login_id=login.id, credential_id="c" * 1364, user_handle="u" * 43, public_key=b"k",
                      name="Н" * 60, created_at=utcnow(), last_used_at=utcnow())
    db_session.add_all([passkey, *[Passkey(login_id=login.id, credential_id=f"{i}" * 40, user_handle="u",
                                           public_key=b"k", name="Н" * 60) for i in range(9)]])
    answers = [SavedAnswer(title=f"{i} " + "Ответ " * 19, text="Слово " * 666, topic_id=topic.id) for i in range(20)]
    db_session.add_all(answers)
    # The family locator at its fullest: 10 people with the longest names, each located; lookups of this number.
    factories.make_subscription(db_session, account, factories.make_service(db_session, code="family-locator"))
    people = [LocatorConsent(seeker_account_id=account.id if n < 10 else other.id, target_msisdn=f"+7903111{n:04d}",
                             target_account_id=account.id if n >= 10 else None, name="Бабушка " * 5,
                             state="granted", expires_at=utcnow()) for n in range(12)]
    db_session.add_all(people)
    db_session.flush()
    db_session.add_all(LocatorLookup(consent_id=c.id, state="found", lat=55.76543, lon=37.60512, accuracy_m=1850,
                                     located_at=utcnow(), place="Ходынский бульвар, Хорошёвский район")
                       for c in people for _ in range(10 if c.target_account_id else 1))
    db_session.commit()
    social_account = SocialAccount(login_id=factories.ensure_login(db_session, "+79161234567").id,
                                   provider="vk", subject="1001", shown="iv***@vk.com")
    db_session.add(social_account)
    db_session.commit()
    ids = dict(support=support.id, devpay="dev_ref", dev3ds="dev_3ds", devsbp="dev_sbp", sbp=sbp.token,
               tariff=tariff.id, service=service.id, subscription=subscription.id, payment=payment.token,
               transfer=transfer.token, customer=account.customer_id, order=order.id, linked=linked.id, link=link.id,
               line=account.id, melody=melody.id, reward=reward.id, agreement=agreement.slug,
               acceptance=acceptance.id, receipt=receipt.code, notice=notice.id, topic=topic.id,
               answer=answers[0].id, social=social_account.id, passkey=passkey.id)
    for url in CUSTOMER:
        yield url, client.get(url.format(**ids))
    key = feed.make_key(db_session, login_id=login.id, name="Widget", actor=SYSTEM, now=utcnow()).secret
    for url in FEED:
        yield url, app.test_client().get(url.format(feed=key), headers={"Authorization": f"Bearer {key}"})
    link = paylink.make_token(account.id, secret=app.config["SECRET_KEY"])
    for url in PAY_LINK:
        yield url, app.test_client().get(url.format(paylink=link, paid=payment.token))
    home = factories.make_home_contract(db_session, "HC-100200", customer=account.customer)
    factories.make_login(db_session, home)
    now = utcnow()
    db_session.add_all([UsageRecord(account_id=home.id, started_at=now - timedelta(hours=7 * i), kind="data",
                                    quantity=1024 * (100 + i), ended_at=now - timedelta(hours=7 * i - 3),
                                    ip="100.64.123.45") for i in range(1, 110)])
    db_session.commit()
    home_client = app.test_client()
    home_client.post_form("/auth/login", {"phone": "HC-100200", "password": factories.PASSWORD})
    for url in HOME:
        response = home_client.get(url)
        assert response.status_code == 200, url
        yield url, response
    ids["home"] = home.id
    staff = app.test_client()
    staff.post_form("/admin/login", {"email": "agent@example.com", "password": factories.PASSWORD})
    for url in STAFF:
        yield url, staff.get(url.format(**ids))


@pytest.fixture
def pages(client, db_session, app):
    factories.ensure_login(db_session, "+79161234567")
    factories.make_staff(db_session, role="admin")  # an admin opens the catalog's forms too
    return list(every_page(client, db_session, app))


def test_every_get_route_is_covered(app):
    placeholders = {"{tariff}": "<int:tariff_id>", "{service}": "<int:service_id>",
                    "{subscription}": "<int:subscription_id>", "transfer/{transfer}": "transfer/<token>",
                    "{payment}": "<token>", "{customer}": "<int:customer_id>",
                    "{linked}": "<int:account_id>", "{link}": "<int:request_id>", "{order}": "<int:order_id>",
                    "{line}": "<int:account_id>", "{home}": "<int:account_id>", "{melody}": "<int:melody_id>",
                    "{reward}": "<int:reward_id>", "{agreement}": "<slug>",
                    "{acceptance}": "<int:acceptance_id>", "{devpay}": "<reference>", "{dev3ds}": "<reference>",
                    "{sbp}": "<token>", "{devsbp}": "<reference>", "{receipt}": "<code>",
                    "{notice}": "<int:notice_id>", "{support}": "<int:request_id>", "{feed}": "<key>",
                    "{paylink}": "<token>", "{paid}": "<payment>",
                    "{topic}": "<int:topic_id>", "{answer}": "<int:answer_id>",
                    "{social}": "<int:link_id>",
                    "{passkey}": "<int:passkey_id>"}
    covered = set()
    for url in PUBLIC + CUSTOMER + FEED + PAY_LINK + HOME + STAFF:
        url = re.sub(r"\?.*", "", url)
        for placeholder, rule in placeholders.items():
            url = url.replace(placeholder, rule)
        covered.add(url)
    skip = {"/static/<path:filename>", "/favicon.ico", "/payments/history.csv", "/archive.csv",
            "/numbers/details.csv", "/numbers/details.pdf", "/payments/receipts/<code>.pdf",
            "/documents/<any(statement, invoice, act):kind>-<month>.pdf",
            "/numbers/traffic/sessions.csv", "/settings/ringback/melodies/<int:melody_id>.wav",
            "/auth/captcha", "/auth/captcha/<token>.<ext>", "/dev/sms", "/dev/ussd",
            "/numbers/home/confirm",  # redirects to /numbers/home unless a code was just sent (test_links.py)
            # pictures, not pages (tests/web/support/test_support_pictures.py)
            "/support/pictures/<int:attachment_id>", "/support/pictures/<int:attachment_id>/preview",
            "/admin/support/pictures/<int:attachment_id>", "/admin/support/pictures/<int:attachment_id>/preview",
            # an open thread's htmx fragment: 204, the thread, or a reload (tests/web/support/test_live_thread.py)
            "/support/<int:request_id>/thread", "/admin/support/<int:request_id>/thread",
            # to a sign-in provider and back, and an offer only after one (tests/web/auth/test_social.py);
            # the development identity provider's endpoints (portal/dev/oidc.py)
            "/auth/social/<provider>/sign-in", "/auth/social/<provider>/link", "/auth/social/<provider>/back",
            "/auth/social/confirm", "/dev/oidc/.well-known/openid-configuration", "/dev/oidc/jwks",
            "/dev/oidc/authorize", "/dev/oidc/userinfo"}
    routes = {rule.rule for rule in app.url_map.iter_rules() if "GET" in rule.methods}
    assert routes - skip <= covered | {"/auth/captcha/<token>.<any(png, wav):ext>"}, routes - skip - covered


def test_every_page_fits_the_first_round_trip(pages):
    for url, response in pages:
        assert response.status_code in (200, 404), (url, response.status_code)
        size = len(gzip.compress(response.data))
        assert size <= BUDGET, f"{url} is {size} bytes gzipped"


def test_no_page_has_inline_script_or_style(pages):
    for url, response in pages:
        html = response.text
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), url
        assert "<style" not in html and " style=" not in html, url
        assert not re.search(r"\son[a-z]+=", html), url


def test_every_response_carries_the_security_headers(pages):
    for url, response in pages:
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        # The public status pages hold nothing of the reader's: anyone may cache them a minute (portal.status).
        # The balance feed may carry its key in the URL: no referrer at all, and a balance is never cached.
        public = url.startswith("/status") and response.status_code == 200
        keyed = url.startswith("/feed")
        assert response.headers["Referrer-Policy"] == ("no-referrer" if keyed else "same-origin"), url
        assert response.headers["Cache-Control"] == ("public, max-age=60" if public else
                                                     "private, no-store" if keyed else "no-store"), url


def test_static_files_are_fingerprinted_and_immutable(client):
    page = client.get("/auth/login").text
    urls = re.findall(r'(?:href|src|data-htmx)="(/static/[^"]+\?v=[0-9a-f]{12})"', page)
    assert len(urls) == 4  # the CSS, portal.js, the htmx it loads and the passkey script of the sign-in page
    total = 0
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200
        assert "immutable" in response.headers["Cache-Control"]
        total += len(gzip.compress(response.data))
    assert total <= 30 * 1024, f"CSS + JS is {total} bytes gzipped"


def test_the_csrf_token_is_in_a_meta_tag_and_sent_by_htmx(client):
    page = client.get("/auth/login").text
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
    assert f'hx-headers=\'{{"X-CSRFToken": "{token}"}}\'' in page


def test_htmx_posts_with_the_header_token_are_accepted(client, db_session):
    factories.ensure_login(db_session, "+79161234567")
    token = client.csrf_token()
    response = client.post("/auth/login", data={"phone": "+79161234567", "password": factories.PASSWORD},
                           headers={"X-CSRFToken": token, "HX-Request": "true"})
    assert response.status_code == 204 and response.headers["HX-Redirect"] == "/"


def test_posts_without_a_token_are_refused(client, db_session):
    factories.ensure_login(db_session, "+79161234567")
    for url in ("/auth/login", "/auth/password", "/auth/logout", "/auth/language", "/admin/login",
                "/settings/password"):
        response = client.post(url, data={"phone": "+79161234567", "password": factories.PASSWORD})
        assert response.status_code == 400, url


def test_the_favicon_request_is_answered_quietly(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 204 and "max-age" in response.headers["Cache-Control"]


def test_the_captcha_page_is_light(client):
    page = client.get("/auth/password")
    assert len(gzip.compress(page.data)) <= BUDGET
    assert captcha_token(page.text)


def test_no_placeholder_shows_the_customers_own_number(pages):
    """Examples use a neutral number: the customer's own would read as "yours" (and forwarding refuses it)."""
    own = ("+7 916 123-45-67", "8 916 123-45-67", "+79161234567")
    for url, response in pages:
        for placeholder in re.findall(r'placeholder="([^"]*)"', response.text):
            assert placeholder not in own, url


def test_every_title_is_plain_text(pages):
    for url, response in pages:
        if "<title>" in response.text:
            title = response.text.split("<title>", 1)[1].split("</title>", 1)[0]
            assert "<" not in title and ">" not in title and title.strip(), (url, title)
