"""Photos on support requests through the pages: attached when opening and replying (refusals next to the field,
the text kept), shown in the thread as a preview, served only to the owner and to staff."""
import io
import re

import pytest
from sqlalchemy import select

from portal.domain.support import attachments
from portal.models import AuditEvent, SupportAttachment, SupportMessage, SupportRequest
from tests import factories, pictures
from tests.helpers import key_of
from tests.web.support.test_support_pages import staff_client

TEXT = "No signal at home, see the screenshot."


@pytest.fixture
def config_overrides(tmp_path):
    return {"SUPPORT_ATTACHMENTS_DIR": str(tmp_path / "pictures")}


@pytest.fixture
def customer(client, login_as):
    login_as("+79161234567")
    return client


def upload(data: bytes, name: str = "photo.jpg"):
    return io.BytesIO(data), name


def open_with(client, data: bytes | None, name="photo.jpg", text=TEXT):
    page = client.get("/support/")
    form = {"idempotency_key": key_of(page.text), "category": "quality", "text": text}
    if data is not None:
        form["photo"] = upload(data, name)
    return client.post_form("/support/", form, content_type="multipart/form-data")


@pytest.fixture
def picture_id(customer, db_session):
    response = open_with(customer, pictures.jpeg(gps=True), "IMG_0001.jpg")
    assert response.status_code == 303, response.text
    return db_session.scalar(select(SupportAttachment.id))


def test_the_forms_post_multipart_with_a_photo_field(customer, db_session):
    page = customer.get("/support/").text
    form = re.search(r'<form[^>]+id="new-request"[^>]*>', page).group(0)
    assert 'enctype="multipart/form-data"' in form
    photo = re.search(r'<input [^>]*name="photo" type="file"[^>]*>', page).group(0)
    assert 'accept="image/jpeg,image/png"' in photo and 'aria-describedby="photo-hint"' in photo
    # static/portal.js refuses a larger file as it is chosen
    assert 'data-max-bytes="2097152" data-too-large="At most 2 MB."' in photo
    assert "JPEG or PNG, up to 2 MB." in page


def test_a_request_opens_with_a_photo_and_the_thread_shows_its_preview(customer, db_session, picture_id, app):
    attachment = db_session.get(SupportAttachment, picture_id)
    request_id = db_session.scalar(select(SupportRequest.id))
    thread = customer.get(f"/support/{request_id}").text
    link = re.search(rf'<a class="picture" hx-boost="false" href="/support/pictures/{picture_id}"><img src="([^"]+)" '
                     rf'width="(\d+)" height="(\d+)" loading="lazy" alt="Photo: IMG_0001.jpg"></a>', thread)
    assert link and link.group(1) == f"/support/pictures/{picture_id}/preview"
    assert (int(link.group(2)), int(link.group(3))) == (attachment.thumb_width, attachment.thumb_height)
    path = attachments.path_of(app.config["SUPPORT_ATTACHMENTS_DIR"], attachment)
    assert path.is_file() and "static" not in str(path)
    assert db_session.scalar(select(AuditEvent.detail).where(AuditEvent.action == "support_opened")) \
        .startswith("quality · photo IMG_0001.jpg (")


def test_the_owner_gets_the_picture_private_inline_and_without_exif(customer, picture_id):
    response = customer.get(f"/support/pictures/{picture_id}")
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    assert response.headers["Cache-Control"] == "private, max-age=3600"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"] == "inline"
    assert response.headers["Content-Security-Policy"].endswith("sandbox")  # the browser's viewer, nothing else
    assert not pictures.opened(response.data).getexif() and b"PhoneMaker" not in response.data
    preview = customer.get(f"/support/pictures/{picture_id}/preview")
    assert preview.status_code == 200 and preview.mimetype == "image/jpeg"
    assert pictures.opened(preview.data).size == (320, 240)


def test_another_customer_anonymous_and_unknown_ids_get_nothing(app, db_session, picture_id):
    other = app.test_client()
    factories.ensure_login(db_session, "+79031112233")
    other.post_form("/auth/login", {"phone": "+79031112233", "password": factories.PASSWORD})
    assert other.get(f"/support/pictures/{picture_id}").status_code == 404
    assert other.get(f"/support/pictures/{picture_id}/preview").status_code == 404
    anonymous = app.test_client().get(f"/support/pictures/{picture_id}")
    assert anonymous.status_code == 302 and "/auth/login" in anonymous.location
    assert app.test_client().get(f"/admin/support/pictures/{picture_id}").status_code == 302
    assert other.get(f"/admin/support/pictures/{picture_id}").status_code == 302


def test_a_lost_file_is_404_not_500(app, customer, db_session, picture_id):
    attachments.path_of(app.config["SUPPORT_ATTACHMENTS_DIR"], db_session.get(SupportAttachment, picture_id)).unlink()
    assert customer.get(f"/support/pictures/{picture_id}").status_code == 404
    assert customer.get("/support/pictures/999999").status_code == 404


def test_staff_see_the_preview_in_the_thread_and_get_the_picture(app, db_session, picture_id):
    staff = staff_client(app, db_session)
    request_id = db_session.scalar(select(SupportRequest.id))
    page = staff.get(f"/admin/support/{request_id}").text
    assert f'href="/admin/support/pictures/{picture_id}"><img src="/admin/support/pictures/{picture_id}/preview"' \
        in page
    response = staff.get(f"/admin/support/pictures/{picture_id}")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "private, max-age=3600"
    assert staff.get(f"/admin/support/pictures/{picture_id}/preview").status_code == 200
    assert staff.get("/admin/support/pictures/999999").status_code == 404


@pytest.mark.parametrize(("data", "name", "message"), [
    (b"#!/bin/sh\necho not a photo\n", "photo.jpg", "Only JPEG or PNG photos."),
    (pictures.noise_jpeg(2 * 1024 * 1024 + 1), "big.jpg", "At most 2 MB."),
    (pictures.bomb_png(), "bomb.png", "The picture is too large"),
], ids=["text-named-jpg", "over-2-mb", "bomb"])
def test_a_refused_photo_is_422_next_to_its_field_with_the_text_kept(customer, db_session, data, name, message):
    response = open_with(customer, data, name)
    assert response.status_code == 422
    error = re.search(r'<p id="photo-error" class="error" role="alert">([^<]+)</p>', response.text)
    assert error and message in error.group(1)
    assert TEXT in response.text
    assert db_session.scalar(select(SupportRequest)) is None and db_session.scalar(select(SupportAttachment)) is None


def test_a_chosen_photo_is_asked_again_when_the_text_is_refused(customer, db_session):
    response = open_with(customer, pictures.jpeg(), text="")
    assert response.status_code == 422 and 'id="text-error"' in response.text
    assert "Choose the photo again" in response.text
    assert db_session.scalar(select(SupportAttachment)) is None


def test_a_request_without_a_photo_still_opens(customer, db_session):
    assert open_with(customer, None).status_code == 303
    page = customer.get("/support/")
    form = {"idempotency_key": key_of(page.text), "category": "money", "text": "An empty file part",
            "photo": (io.BytesIO(b""), "")}
    assert customer.post_form("/support/", form, content_type="multipart/form-data").status_code == 303
    assert db_session.query(SupportRequest).count() == 2 and db_session.scalar(select(SupportAttachment)) is None


def test_a_reply_carries_a_png_and_a_refused_one_keeps_the_text(customer, db_session, picture_id):
    request_id = db_session.scalar(select(SupportRequest.id))
    thread = customer.get(f"/support/{request_id}").text
    assert re.search(r'<form[^>]+id="reply"[^>]+enctype="multipart/form-data"', thread)
    refused = customer.post_form(f"/support/{request_id}/reply",
                                 {"idempotency_key": key_of(thread), "text": "The screen, again.",
                                  "photo": upload(b"not a picture", "screen.png")}, content_type="multipart/form-data")
    assert refused.status_code == 422 and 'id="photo-error"' in refused.text and "The screen, again." in refused.text
    response = customer.post_form(f"/support/{request_id}/reply",
                                  {"idempotency_key": key_of(thread), "text": "The screen, again.",
                                   "photo": upload(pictures.png(), "screen.png")}, content_type="multipart/form-data")
    assert response.status_code == 303
    reply = db_session.scalar(select(SupportMessage).where(SupportMessage.text == "The screen, again."))
    assert [a.content_type for a in reply.attachments] == ["image/png"]
    png = customer.get(f"/support/pictures/{reply.attachments[0].id}")
    assert png.mimetype == "image/png" and "Author" not in pictures.opened(png.data).info
    assert db_session.scalar(select(AuditEvent.detail).where(AuditEvent.action == "support_customer_replied")) \
        .startswith("photo screen.png (")


def test_an_upload_without_the_csrf_token_is_refused(customer, db_session):
    page = customer.get("/support/").text
    response = customer.post("/support/", data={"idempotency_key": key_of(page), "category": "quality", "text": TEXT,
                                                 "photo": upload(pictures.jpeg())}, content_type="multipart/form-data")
    assert response.status_code == 400 and db_session.scalar(select(SupportAttachment)) is None


def test_a_body_far_over_the_limit_gets_the_413_page(app, customer):
    app.config["SUPPORT_UPLOAD_MAX_BODY"] = 3 * 1024 * 1024
    response = open_with(customer, b"x" * (4 * 1024 * 1024))
    assert response.status_code == 413 and "a form may carry up to 3072 KB" in response.text
