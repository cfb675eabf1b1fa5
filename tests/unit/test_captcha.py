from datetime import timedelta

import pytest

from portal.domain import captcha
from portal.models import utcnow

KEY = "k"


def test_the_answer_uses_the_unambiguous_alphabet():
    answer = captcha.answer_for("token", key=KEY, length=5)
    assert len(answer) == 5 and set(answer) <= set(captcha.ALPHABET)
    assert not set("0O1I2Z5S8B") & set(captcha.ALPHABET)


def test_the_answer_depends_on_token_and_key():
    assert captcha.answer_for("a", key=KEY, length=5) != captcha.answer_for("b", key=KEY, length=5)
    assert captcha.answer_for("a", key=KEY, length=5) != captcha.answer_for("a", key="other", length=5)


def test_consume_passes_once(db_session):
    now = utcnow()
    token = captcha.new_challenge(db_session, key=KEY, length=5, ttl=timedelta(minutes=5), now=now)
    answer = captcha.answer_for(token, key=KEY, length=5)
    captcha.consume(db_session, token=token, answer=f" {answer.lower()} ", now=now)
    with pytest.raises(captcha.WrongCaptcha):
        captcha.consume(db_session, token=token, answer=answer, now=now)


def test_the_test_answer_opens_it_only_when_given(db_session):
    now = utcnow()
    token = captcha.new_challenge(db_session, key=KEY, length=5, ttl=timedelta(minutes=5), now=now)
    with pytest.raises(captcha.WrongCaptcha):
        captcha.consume(db_session, token=token, answer="TEST1", now=now)
    token = captcha.new_challenge(db_session, key=KEY, length=5, ttl=timedelta(minutes=5), now=now)
    captcha.consume(db_session, token=token, answer="TEST1", now=now, test_answer="TEST1")


def test_old_challenges_are_cleared(db_session):
    from sqlalchemy import func, select

    from portal.models import Challenge

    then = utcnow() - timedelta(hours=1)
    captcha.new_challenge(db_session, key=KEY, length=5, ttl=timedelta(minutes=5), now=then)
    captcha.new_challenge(db_session, key=KEY, length=5, ttl=timedelta(minutes=5), now=utcnow())
    assert db_session.scalar(select(func.count()).select_from(Challenge)) == 1


def test_pictures_stay_small():
    sizes = [len(captcha.render_png(captcha.answer_for(str(i), key=KEY, length=5))) for i in range(20)]
    assert max(sizes) <= 8 * 1024
