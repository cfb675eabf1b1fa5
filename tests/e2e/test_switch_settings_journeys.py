"""Switch settings in a real browser, JavaScript on and off: call forwarding saved, refused with the
reason next to the field, failed in the network and tried again from the page; the blacklist
connected with the first number, then emptied and disconnected; a ringback melody previewed, set and
removed; voicemail switched on and a new PIN sent."""
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.models import (
    Account,
    BlacklistEntry,
    ForwardingRule,
    Melody,
    RingbackChoice,
    SmsMessage,
    Subscription,
    SwitchCommand,
    VoicemailBox,
)
from tests import factories
from tests.e2e.test_sms_login_journey import MSISDN, sign_in, url_path_is

JS = pytest.mark.parametrize("js", [True, False], ids=["js-on", "js-off"])
FRIEND = "+79031112233"


@pytest.fixture
def customer(live_server):
    with live_server.app_context() as session:
        account = factories.make_line(session, MSISDN, balance=25_000)
        factories.make_login(session, account)
        factories.make_service(session, code="blacklist", name="Blacklist", category="security", monthly_fee=0,
                               daily_fee=150)
        factories.make_service(session, code="ringback-tone", name="Ringback melody", category="entertainment",
                               monthly_fee=0, daily_fee=100)
        melody = factories.make_service(session, code="m-kalinka", name="Kalinka", category="ringback",
                                        monthly_fee=0, daily_fee=50)
        session.add(Melody(service_id=melody.id, artist="Russian folk song", tune="E5:1 D5:1 C5:2"))
        session.commit()


def rules(live_server):
    with live_server.app_context() as session:
        return {(r.condition, r.target, r.enabled, r.seconds) for r in session.scalars(select(ForwardingRule))}


@JS
def test_set_forwarding_be_refused_then_retry_a_failed_change(page_factory, live_server, customer, js):
    page = page_factory(js)
    page.goto("/auth/login")
    sign_in(page, MSISDN, factories.PASSWORD)
    expect(page).to_have_url(url_path_is("/"))
    page.locator("nav a[href='/settings/']").click()
    page.locator("main a[href='/settings/forwarding']").click()
    expect(page).to_have_url(url_path_is("/settings/forwarding"))

    # Forwarding to the number itself is refused next to the field, nothing saved.
    busy = page.locator("#fwd-busy")
    busy.locator("input[name=busy-enabled]").check()
    busy.locator("input[name=busy-target]").fill("8 916 123-45-67")
    busy.locator("button[type=submit]").click()
    expect(page.locator("#fwd-busy .error")).to_contain_text("the number itself")
    assert rules(live_server) == set()

    # A good number: saved and applied in the network.
    page.locator("#fwd-busy input[name=busy-target]").fill("8 903 111-22-33")
    page.locator("#fwd-busy button[type=submit]").click()
    expect(page.locator(".flash")).to_be_visible()
    expect(page.locator("#fwd-busy .switch-applied")).to_be_visible()
    assert rules(live_server) == {("busy", FRIEND, True, None)}

    # The switch refuses the next change: the page says so and offers to try again.
    live_server.app.config["PROVISIONING_FAIL_NUMBERS"] = [MSISDN]
    no_answer = page.locator("#fwd-no_answer")
    no_answer.locator("input[name=no_answer-enabled]").check()
    no_answer.locator("input[name=no_answer-target]").fill(FRIEND)
    no_answer.locator("input[name=no_answer-seconds]").fill("10")
    no_answer.locator("button[type=submit]").click()
    expect(page.locator("#fwd-no_answer .switch-failed")).to_be_visible()
    live_server.app.config["PROVISIONING_FAIL_NUMBERS"] = []
    page.locator("#fwd-no_answer button", has_text="Try again").click()
    expect(page.locator("#fwd-no_answer .switch-applied")).to_be_visible()
    with live_server.app_context() as session:
        statuses = [c.status for c in session.scalars(select(SwitchCommand).order_by(SwitchCommand.id))]
    assert statuses == ["applied", "applied"]


@JS
def test_blacklist_connect_with_the_first_number_then_empty_and_disconnect(page_factory, live_server, customer, js):
    page = page_factory(js)
    page.goto("/auth/login")
    sign_in(page, MSISDN, factories.PASSWORD)
    page.goto("/settings/")
    page.locator("main a[href='/settings/blacklist']").click()
    expect(page.locator("#blacklist-service")).to_contain_text("1.50")

    add = page.locator("#blacklist-add")
    add.locator("input[name=number]").fill("8 903 555-66-77")
    add.locator("button[type=submit]").click()
    expect(page.locator("#connect-error")).to_be_visible()  # the fee must be agreed first
    page.locator("#blacklist-add input[name=connect]").check()
    page.locator("#blacklist-add button[type=submit]").click()
    expect(page.locator("#blacklist-list")).to_contain_text("+7 903 555-66-77")
    expect(page.locator("#blacklist-service .switch-applied")).to_be_visible()

    listed = page.locator("#blacklist-list")
    listed.locator("input[name=entries]").first.check()
    listed.locator("input[name=disconnect]").check()
    listed.locator("button[type=submit]").click()
    expect(page.locator("#blacklist-list")).to_have_count(0)
    with live_server.app_context() as session:
        assert session.scalars(select(BlacklistEntry)).all() == []
        assert [s.status for s in session.scalars(select(Subscription))] == ["ended"]
        assert session.scalars(select(Account.balance)).one() == 25_000 - 150


@JS
def test_ringback_preview_set_and_remove_then_voicemail_and_a_new_pin(page_factory, live_server, customer, js):
    page = page_factory(js)
    page.goto("/auth/login")
    sign_in(page, MSISDN, factories.PASSWORD)
    page.goto("/settings/")
    page.locator("main a[href='/settings/ringback']").click()
    page.locator("#melodies a", has_text="Kalinka").click()
    expect(page.locator("#preview audio")).to_have_attribute("preload", "none")
    if js:  # the preview is real sound the browser can fetch
        audio_type = "fetch(document.querySelector('#preview audio').src).then(r => r.headers.get('content-type'))"
        assert page.evaluate(audio_type) == "audio/wav"
    page.locator("#ringback-set input[name=accept]").check()
    page.locator("#ringback-set button[type=submit]").click()
    expect(page).to_have_url(url_path_is("/settings/ringback"))
    expect(page.locator("#ringback-now")).to_contain_text("Kalinka")
    page.locator("#ringback-now input[name=choices]").first.check()
    page.locator("#ringback-now button[type=submit]").click()
    expect(page.locator("#ringback-now")).to_contain_text("usual ringing tone")
    with live_server.app_context() as session:
        assert session.scalars(select(RingbackChoice)).all() == []
        assert {s.status for s in session.scalars(select(Subscription))} == {"ended"}

    page.goto("/settings/voicemail")
    page.locator("#voicemail-form input[name=enabled]").check()
    page.locator("#voicemail-form button[type=submit]").click()
    expect(page.locator("#voicemail-form .switch-applied")).to_be_visible()
    page.locator("#voicemail-pin button[type=submit]").click()
    expect(page.locator(".flash")).to_contain_text("new PIN")
    with live_server.app_context() as session:
        assert session.scalars(select(VoicemailBox.enabled)).one() is True
        assert session.scalars(select(SmsMessage).where(SmsMessage.purpose == "voicemail_pin")).one()
