"""Photos on support messages: only real JPEG or PNG, re-encoded without metadata, upright, not too large, stored
beside the database row (the file appears with the row, and never without it)."""
from datetime import datetime

import pytest
from sqlalchemy import select

from portal.domain.audit import Actor
from portal.domain.support import attachments
from portal.domain.support import requests as support
from portal.models import AuditEvent, SupportAttachment
from tests import factories, pictures

NOON = datetime(2026, 11, 20, 9, 0)
MB = 1024 * 1024
LIMITS = {"max_bytes": 2 * MB, "max_pixels": 50_000_000}


def process(data, name="photo.jpg", **limits):
    return attachments.process(data, name=name, **{**LIMITS, **limits})


def test_a_phone_photo_is_stored_without_exif_gps_or_comments():
    original = pictures.jpeg(gps=True)
    assert pictures.opened(original).getexif().get_ifd(pictures.GPS_INFO)  # the test photo does carry GPS
    picture = process(original)
    stored = pictures.opened(picture.content)
    assert (stored.format, picture.content_type, stored.size) == ("JPEG", "image/jpeg", (400, 300))
    assert not stored.getexif() and "exif" not in stored.info and "comment" not in stored.info
    assert b"PhoneMaker" not in picture.content and b"taken at home" not in picture.content
    assert pictures.opened(picture.thumb).format == "JPEG"
    assert (picture.thumb_width, picture.thumb_height) == (320, 240)


def test_the_exif_orientation_is_applied_before_it_is_dropped():
    # Orientation 6: the camera was turned; the picture is shown turned 90° clockwise.
    picture = process(pictures.jpeg((400, 300), orientation=6))
    stored = pictures.opened(picture.content).convert("RGB")
    assert stored.size == (300, 400) and (picture.width, picture.height) == (300, 400)
    # The blue top-left quarter is now the top-right one.
    assert stored.getpixel((250, 50))[2] > 200 and stored.getpixel((50, 50))[0] > 200


def test_a_png_screenshot_stays_png_with_its_transparency_and_without_its_text():
    picture = process(pictures.png(), name="screen.png")
    stored = pictures.opened(picture.content)
    assert (stored.format, stored.mode, picture.content_type) == ("PNG", "RGBA", "image/png")
    assert "Author" not in stored.info and b"Somebody" not in picture.content
    assert pictures.opened(picture.thumb).mode == "RGB"  # the preview is a JPEG on white


def test_a_large_picture_is_scaled_to_2000_px_on_its_longest_side():
    picture = process(pictures.jpeg((4000, 1000)))
    assert (picture.width, picture.height) == (2000, 500)
    assert pictures.opened(picture.content).size == (2000, 500)


@pytest.mark.parametrize("data", [b"Hello, this is not a photo.\n" * 10, b"", b"GIF89a" + b"\0" * 100,
                                  pictures.jpeg()[:600]],
                         ids=["text", "empty", "gif", "truncated"])
def test_anything_but_a_whole_jpeg_or_png_is_refused_whatever_its_name(data):
    with pytest.raises(attachments.InvalidPicture) as refused:
        process(data, name="photo.jpg")
    assert refused.value.field == "photo" and refused.value.message == "Only JPEG or PNG photos."


def test_a_file_over_the_limit_is_refused_before_it_is_opened():
    data = pictures.noise_jpeg(2 * MB + 1)
    with pytest.raises(attachments.InvalidPicture) as refused:
        process(data)
    assert refused.value.message == "At most 2 MB."


def test_reading_an_upload_stops_one_byte_past_the_limit():
    import io

    stream = io.BytesIO(b"x" * (3 * MB))
    with pytest.raises(attachments.InvalidPicture):
        attachments.read_upload(stream, 2 * MB)
    assert stream.tell() == 2 * MB + 1
    assert attachments.read_upload(io.BytesIO(b"abc"), 2 * MB) == b"abc"


def test_a_decompression_bomb_is_refused_from_its_header():
    data = pictures.bomb_png(20000)  # 400 million pixels in about 50 KB
    assert len(data) < 100_000
    with pytest.raises(attachments.InvalidPicture) as refused:
        process(data, name="bomb.png")
    assert "too large" in refused.value.message
    with pytest.raises(attachments.InvalidPicture):
        process(pictures.jpeg((400, 300)), max_pixels=400 * 300 - 1)


def test_a_file_name_is_kept_as_a_label_only():
    assert attachments.clean_name("C:\\Users\\me\\IMG_0001.JPG") == "IMG_0001.JPG"
    assert attachments.clean_name("../../etc/\x00passwd\n") == "passwd"
    assert attachments.clean_name("") == "photo"
    assert len(attachments.clean_name("x" * 300 + ".png")) == attachments.NAME_LENGTH


# ---- stored with the message --------------------------------------------------------------------------------

@pytest.fixture
def login(db_session):
    line = factories.make_line(db_session, "+79161234567")
    login = factories.make_login(db_session, line)
    db_session.commit()
    return login


def open_with(db_session, login, folder, picture, key="k" * 24):
    return support.open_request(db_session, login_id=login.id, account_id=login.primary_account_id,
                                category="quality", text="No signal, see the screenshot.", idempotency_key=key,
                                actor=Actor(login_id=login.id), now=NOON, per_day=10, picture=picture,
                                files_dir=str(folder))


def files_in(folder):
    return sorted(p.name for p in folder.rglob("*") if p.is_file())


def test_a_request_with_a_photo_stores_the_file_the_row_and_names_it_in_the_audit(db_session, login, tmp_path):
    picture = process(pictures.jpeg(), name="IMG_0001.jpg")
    outcome = open_with(db_session, login, tmp_path, picture)
    attachment = db_session.scalar(select(SupportAttachment))
    assert attachment.message.request_id == outcome.request_id
    assert (attachment.content_type, attachment.size, attachment.width, attachment.height) == (
        "image/jpeg", len(picture.content), 400, 300)
    assert attachments.path_of(tmp_path, attachment).read_bytes() == picture.content
    assert attachments.path_of(tmp_path, attachment, thumb=True).read_bytes() == picture.thumb
    assert "IMG_0001" not in str(attachments.path_of(tmp_path, attachment))  # stored under a random name
    assert not any(name.endswith(".part") for name in files_in(tmp_path))
    detail = db_session.scalar(select(AuditEvent.detail).where(AuditEvent.action == "support_opened"))
    assert detail == f"quality · photo IMG_0001.jpg ({len(picture.content)} B, 400×300)"
    messages = support.thread(db_session, outcome.request_id, with_notes=False)
    assert [a.id for a in messages[0].attachments] == [attachment.id]


def test_a_reply_with_a_photo_is_audited_with_it(db_session, login, tmp_path):
    request_id = open_with(db_session, login, tmp_path, None).request_id
    picture = process(pictures.png(), name="screen.png")
    support.reply_as_customer(db_session, request_id=request_id, login_id=login.id, text="Here it is.",
                              idempotency_key="r" * 24, actor=Actor(login_id=login.id), now=NOON,
                              picture=picture, files_dir=str(tmp_path))
    attachment = db_session.scalar(select(SupportAttachment))
    assert attachment.content_type == "image/png" and attachments.path_of(tmp_path, attachment).name.endswith(".png")
    assert db_session.scalar(select(AuditEvent.detail).where(AuditEvent.action == "support_customer_replied")) \
        .startswith("photo screen.png")


def test_the_same_form_twice_stores_one_picture(db_session, login, tmp_path):
    picture = process(pictures.jpeg())
    assert open_with(db_session, login, tmp_path, picture).done
    assert not open_with(db_session, login, tmp_path, picture).done
    assert db_session.query(SupportAttachment).count() == 1 and len(files_in(tmp_path)) == 2


def test_when_the_database_refuses_the_files_are_removed(db_session, login, tmp_path, monkeypatch):
    def broken_commit():
        raise RuntimeError("the database went away")

    monkeypatch.setattr(db_session, "commit", broken_commit)
    with pytest.raises(RuntimeError):
        open_with(db_session, login, tmp_path, process(pictures.jpeg()))
    db_session.rollback()
    monkeypatch.undo()
    assert files_in(tmp_path) == []
    assert db_session.query(SupportAttachment).count() == 0


def test_a_twin_that_committed_first_leaves_no_files(db_session, login, tmp_path, monkeypatch):
    from portal.domain import idempotency

    monkeypatch.setattr(idempotency, "commit_once", lambda session: session.rollback() or False)
    outcome = open_with(db_session, login, tmp_path, process(pictures.jpeg()))
    assert not outcome.done and files_in(tmp_path) == []


def test_only_the_owner_reaches_a_picture_and_never_on_an_internal_note(db_session, login, tmp_path):
    open_with(db_session, login, tmp_path, process(pictures.jpeg()))
    attachment = db_session.scalar(select(SupportAttachment))
    other = factories.make_login(db_session, factories.make_line(db_session, "+79160000001"))
    db_session.commit()
    assert support.attachment_of_login(db_session, attachment.id, login.id) == attachment
    with pytest.raises(support.NotFound):
        support.attachment_of_login(db_session, attachment.id, other.id)
    with pytest.raises(support.NotFound):
        support.attachment_of_login(db_session, attachment.id + 1, login.id)
    assert support.staff_attachment(db_session, attachment.id) == attachment


def test_the_folder_is_in_the_instance_folder_unless_configured(app, database_url, tmp_path):
    from pathlib import Path

    from portal import create_app
    from tests.conftest import base_config

    assert app.config["SUPPORT_ATTACHMENTS_DIR"] == str(Path(app.instance_path) / "support_attachments")
    configured = create_app({**base_config(database_url), "SUPPORT_ATTACHMENTS_DIR": str(tmp_path)})
    assert configured.config["SUPPORT_ATTACHMENTS_DIR"] == str(tmp_path)


@pytest.mark.parametrize("name", ["SUPPORT_ATTACHMENT_MAX_BYTES", "SUPPORT_ATTACHMENT_MAX_PIXELS",
                                  "SUPPORT_UPLOAD_MAX_BODY"])
def test_a_limit_that_is_not_a_number_stops_the_start(database_url, name):
    from portal import ConfigError, create_app
    from tests.conftest import base_config

    with pytest.raises(ConfigError, match=name):
        create_app({**base_config(database_url), name: "2MB"})
