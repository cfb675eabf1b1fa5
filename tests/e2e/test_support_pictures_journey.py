"""A support request with a photo end to end, JavaScript on and off: a file that is not a picture is refused next
to its field with the text kept, the photo goes (its preview in the thread, the picture behind it), staff see it
and answer, the SMS is in the /dev/sms outbox, the customer replies with a screenshot, closes and rates."""
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.domain.support import attachments
from portal.models import SupportAttachment, SupportRequest
from tests import factories, pictures
from tests.e2e.test_sms_login_journey import sign_in, url_path_is
from tests.e2e.test_support_journey import MSISDN, STAFF_EMAIL, staff_answers

JS = pytest.mark.parametrize("js", [True, False], ids=["js-on", "js-off"])
TEXT = "No signal at home since yesterday, see the photo of the phone."
LOADED = "img => img.complete && img.naturalWidth > 0"


@pytest.fixture
def config_overrides(tmp_path):
    return {"SUPPORT_ATTACHMENTS_DIR": str(tmp_path / "pictures")}


@pytest.fixture
def customer(live_server):
    with live_server.app_context() as session:
        factories.ensure_login(session, MSISDN)
        factories.make_staff(session, email=STAFF_EMAIL)


def file(name: str, data: bytes, mime: str) -> dict:
    return {"name": name, "mimeType": mime, "buffer": data}


@JS
def test_a_request_with_a_photo_is_answered_replied_closed_and_rated(page_factory, live_server, customer, js):
    page = page_factory(js)
    page.goto("/auth/login")
    sign_in(page, MSISDN, factories.PASSWORD)
    expect(page).to_have_url(url_path_is("/"))
    page.goto("/support/")
    posts = []
    page.on("request", lambda r: posts.append(r) if r.method == "POST" and "/support/" in r.url else None)

    form = page.locator("#new-request")
    form.locator("select[name=category]").select_option("quality")
    form.locator("textarea[name=text]").fill(TEXT)
    if js:  # a file over 2 MB is refused as it is chosen, before it goes over the line
        form.locator("input[name=photo]").set_input_files(file("big.jpg", b"\xff" * (2 * 1024 * 1024 + 1),
                                                              "image/jpeg"))
        expect(page.locator("#photo-hint")).to_have_text("At most 2 MB.")
        expect(form.locator("input[name=photo]")).to_have_value("")
        assert posts == []
    form.locator("input[name=photo]").set_input_files(file("photo.jpg", b"#!/bin/sh\nnot a photo\n", "image/jpeg"))
    form.locator("button[type=submit]").click()
    expect(page.locator("#photo-error")).to_have_text("Only JPEG or PNG photos.")
    expect(form.locator("textarea[name=text]")).to_have_value(TEXT)

    form.locator("input[name=photo]").set_input_files(file("IMG_0001.jpg", pictures.jpeg((1200, 900), gps=True),
                                                          "image/jpeg"))
    form.locator("button[type=submit]").click()
    thread = page.locator("#thread")
    expect(thread).to_contain_text(TEXT)
    preview = thread.locator("a.picture img")
    expect(preview).to_have_attribute("alt", "Photo: IMG_0001.jpg")
    page.wait_for_function(f"() => {{ const img = document.querySelector('#thread a.picture img'); "
                           f"return img && ({LOADED})(img); }}")
    with live_server.app_context() as session:
        request_id = session.scalar(select(SupportRequest.id))
        attachment = session.scalar(select(SupportAttachment))
        assert (attachment.width, attachment.height) == (1200, 900)
        stored = attachments.path_of(live_server.app.config["SUPPORT_ATTACHMENTS_DIR"], attachment).read_bytes()
        assert not pictures.opened(stored).getexif()
    expect(page).to_have_url(url_path_is(f"/support/{request_id}"))

    thread.locator("a.picture").click()  # the picture itself, not an htmx swap of an image into the page
    expect(page).to_have_url(url_path_is(f"/support/pictures/{attachment.id}"))
    page.go_back()
    expect(page).to_have_url(url_path_is(f"/support/{request_id}"))

    staff = page_factory(js)
    staff_answers(staff, request_id)
    staff_preview = staff.locator("#thread a.picture img")
    expect(staff_preview).to_have_count(1)
    assert staff_preview.evaluate(LOADED) or staff_preview.evaluate(
        "img => new Promise(done => img.addEventListener('load', () => done(img.naturalWidth > 0)))")

    page.goto("/dev/sms")
    expect(page.locator(".sms-list")).to_contain_text(f"support answered your request #{request_id}")

    page.goto(f"/support/{request_id}")
    expect(thread).to_contain_text("it works again")
    reply = page.locator("#reply")
    reply.locator("textarea[name=text]").fill("It works now; here is the screen with full bars.")
    reply.locator("input[name=photo]").set_input_files(file("screen.png", pictures.png((360, 640)), "image/png"))
    reply.locator("button[type=submit]").click()
    expect(thread.locator("li")).to_have_count(3)
    expect(thread.locator("a.picture img")).to_have_count(2)
    expect(page.locator("#request-state")).to_contain_text("in progress")
    with live_server.app_context() as session:
        assert sorted(session.scalars(select(SupportAttachment.content_type))) == ["image/jpeg", "image/png"]
    uploads = [r for r in posts if r.url.endswith(("/support/", "/reply"))]
    assert len(uploads) == 3  # refused, opened, replied: with JS as htmx requests, and multipart either way
    assert all(r.headers["content-type"].startswith("multipart/form-data") for r in uploads)
    assert all((r.headers.get("hx-request") == "true") == js for r in uploads)

    page.locator("#close button[type=submit]").click()
    expect(page.locator("#request-state")).to_contain_text("closed")
    rate = page.locator("form#rate")
    rate.locator("input[name=rating][value='5']").check()
    rate.locator("button[type=submit]").click()
    expect(page.locator("#rate")).to_contain_text("Your rating: 5 of 5.")
    with live_server.app_context() as session:
        assert session.get(SupportRequest, request_id).rating == 5
