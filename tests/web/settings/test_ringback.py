"""The ringback pages: the melody catalog, a preview with sound, setting and removing melodies."""
import pytest
from sqlalchemy import func, select

from portal.models import Melody, RingbackChoice, Subscription
from tests import factories
from tests.helpers import key_of

PHONE = "+79161234567"
FRIEND = "+79031112233"


@pytest.fixture
def melody_id(client, login_as, db_session):
    login_as(PHONE)
    factories.make_service(db_session, code="ringback-tone", name="Ringback melody", category="entertainment",
                           monthly_fee=0, daily_fee=100)
    service = factories.make_service(db_session, code="m-kalinka", name="Kalinka", category="ringback",
                                     monthly_fee=0, daily_fee=50)
    db_session.add(Melody(service_id=service.id, artist="Russian folk song", tune="E5:1 D5:1 C5:2"))
    db_session.commit()
    return service.id


def choose(client, melody_id, **extra):
    key = key_of(client.get("/settings/ringback").text)
    return client.post_form("/settings/ringback/set", {"idempotency_key": key, "melody": melody_id, "who": "all",
                                                       **extra})


def count(db_session, model, *where):
    return db_session.scalar(select(func.count()).select_from(model).where(*where))


def test_the_catalog_lists_melodies_with_their_price_a_day(client, melody_id):
    page = client.get("/settings/ringback")
    assert page.status_code == 200 and "Kalinka" in page.text and "0.50" in page.text
    assert f'href="/settings/ringback/melodies/{melody_id}"' in page.text


def test_melodies_are_not_in_the_services_catalog(client, melody_id):
    assert "Kalinka" not in client.get("/services/").text
    assert client.get(f"/services/{melody_id}").status_code == 404


def test_the_preview_page_plays_a_wav(client, melody_id):
    page = client.get(f"/settings/ringback/melodies/{melody_id}")
    assert page.status_code == 200 and f'src="/settings/ringback/melodies/{melody_id}.wav"' in page.text
    assert 'preload="none"' in page.text
    audio = client.get(f"/settings/ringback/melodies/{melody_id}.wav")
    assert audio.status_code == 200 and audio.mimetype == "audio/wav" and audio.data[:4] == b"RIFF"
    assert client.get("/settings/ringback/melodies/999999").status_code == 404
    assert client.get("/settings/ringback/melodies/999999.wav").status_code == 404


def test_setting_a_melody_for_every_caller_with_the_fee_agreed(client, db_session, melody_id):
    refused = choose(client, melody_id)
    assert refused.status_code == 422 and 'id="accept-error"' in refused.text
    assert count(db_session, RingbackChoice) == count(db_session, Subscription) == 0
    response = choose(client, melody_id, accept="y")
    assert response.status_code == 303 and response.headers["Location"] == "/settings/ringback"
    page = client.get("/settings/ringback").text
    assert "Every caller" in page and "applied" in page
    assert count(db_session, Subscription, Subscription.status == "active") == 2
    assert "Ringback melody set" in client.get("/archive").text


@pytest.mark.parametrize(("values", "message"), [
    (dict(who="number"), "Enter the number"), (dict(who="number", caller=PHONE), "the number itself"),
    (dict(who="number", caller="1" * 10_000), ""), (dict(melody="999999"), "Choose a melody"),
    (dict(melody="x" * 10_000), ""),
])
def test_bad_input_is_refused_and_nothing_changes(client, db_session, melody_id, values, message):
    response = choose(client, melody_id, accept="y", **values)
    assert response.status_code == 422 and 'class="error' in response.text and message in response.text
    assert count(db_session, RingbackChoice) == count(db_session, Subscription) == 0


def test_a_melody_for_one_number_and_removing_it(client, db_session, melody_id):
    assert choose(client, melody_id, accept="y", who="number", caller="8 903 111-22-33").status_code == 303
    choice = db_session.scalar(select(RingbackChoice))
    assert choice.caller == FRIEND
    key = key_of(client.get("/settings/ringback").text)
    assert client.post_form("/settings/ringback/remove", {"idempotency_key": key, "choices": [choice.id]}
                            ).status_code == 303
    assert count(db_session, RingbackChoice) == 0
    assert count(db_session, Subscription, Subscription.status == "active") == 0


def test_removing_nothing_is_422_and_anothers_choice_404(client, db_session, melody_id):
    choose(client, melody_id, accept="y")
    other = factories.make_line(db_session, FRIEND)
    db_session.add(RingbackChoice(account_id=other.id, caller="", melody_id=melody_id))
    db_session.commit()
    foreign = db_session.scalar(select(RingbackChoice.id).where(RingbackChoice.account_id == other.id))
    key = key_of(client.get("/settings/ringback").text)
    assert client.post_form("/settings/ringback/remove", {"idempotency_key": key}).status_code == 422
    assert client.post_form("/settings/ringback/remove", {"idempotency_key": key, "choices": [foreign]}
                            ).status_code == 404
    assert count(db_session, RingbackChoice) == 2


def test_posts_need_the_csrf_token(client, db_session, melody_id):
    assert client.post("/settings/ringback/set", data={"melody": melody_id, "accept": "y"}).status_code == 400
    assert count(db_session, RingbackChoice) == 0
