"""Support topics and saved answers: codes, names in two languages, order, retiring, placeholders, the audit."""
from datetime import datetime

import pytest
from sqlalchemy import select

from portal.domain.audit import Actor
from portal.domain.errors import NotFound
from portal.domain.support import requests as support
from portal.domain.support import topics
from portal.models import AuditEvent, SavedAnswer, SupportTopic
from tests import factories

NOW = datetime(2026, 12, 7, 9, 0)
ADMIN = Actor(staff_id=None)


def codes(db_session):
    return [t.code for t in topics.all_topics(db_session)]


def actions(db_session):
    return list(db_session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_the_five_topics_of_the_migration_are_there_in_order(db_session):
    assert codes(db_session) == ["money", "tariff", "quality", "home", "other"]
    money = topics.all_topics(db_session)[0]
    assert (money.name("ru"), money.name("en")) == ("Деньги и платежи", "Money and payments")


def test_a_name_falls_back_to_the_other_language():
    only_ru = topics.Topic(1, "x", "Роуминг", "", 1, True)
    only_en = topics.Topic(2, "y", "", "Roaming", 2, True)
    assert (only_ru.name("en"), only_en.name("ru"), only_en.name("en_GB")) == ("Роуминг", "Roaming", "Roaming")


def test_adding_a_topic_puts_it_last_once_per_form_and_audits_it(db_session):
    created = topics.add_topic(db_session, code="Roaming", name_ru="Роуминг", name_en="  Roaming  abroad ",
                               idempotency_key="t" * 24, actor=ADMIN)
    assert created.done and codes(db_session)[-1] == "roaming"
    row = db_session.get(SupportTopic, created.id)
    assert (row.name_en, row.active, row.position) == ("Roaming abroad", True, 6)
    again = topics.add_topic(db_session, code="roaming2", name_ru="Роуминг", name_en="", idempotency_key="t" * 24,
                             actor=ADMIN)
    assert not again.done and len(codes(db_session)) == 6
    assert actions(db_session) == ["support_topic_added"]


@pytest.mark.parametrize("code, name_ru, name_en, field", [
    ("money", "Деньги", "", "code"),  # taken
    ("1abc", "Имя", "", "code"),
    ("a", "Имя", "", "code"),
    ("with space", "Имя", "", "code"),
    ("fine", " ", "", "name_ru"),
    ("fine", "я" * 81, "", "name_ru"),
    ("fine", "", "e" * 81, "name_en"),
])
def test_a_topic_needs_a_new_code_and_a_name(db_session, code, name_ru, name_en, field):
    with pytest.raises(topics.InvalidTopic) as refused:
        topics.add_topic(db_session, code=code, name_ru=name_ru, name_en=name_en, idempotency_key="t" * 24,
                         actor=ADMIN)
    assert refused.value.field == field


def test_renaming_keeps_the_code_and_is_audited(db_session):
    money = topics.all_topics(db_session)[0]
    topics.rename_topic(db_session, topic_id=money.id, name_ru="Платежи", name_en="", actor=ADMIN)
    renamed = topics.topic(db_session, money.id)
    assert (renamed.code, renamed.name("en")) == ("money", "Платежи")
    topics.rename_topic(db_session, topic_id=money.id, name_ru="Платежи", name_en="", actor=ADMIN)  # no change
    assert actions(db_session) == ["support_topic_renamed"]
    with pytest.raises(NotFound):
        topics.rename_topic(db_session, topic_id=999, name_ru="x", name_en="", actor=ADMIN)


def test_moving_up_and_down_swaps_neighbours_and_stops_at_the_ends(db_session):
    by_code = {t.code: t.id for t in topics.all_topics(db_session)}
    topics.move_topic(db_session, topic_id=by_code["quality"], direction="up", actor=ADMIN)
    assert codes(db_session) == ["money", "quality", "tariff", "home", "other"]
    topics.move_topic(db_session, topic_id=by_code["money"], direction="down", actor=ADMIN)
    assert codes(db_session) == ["quality", "money", "tariff", "home", "other"]
    topics.move_topic(db_session, topic_id=by_code["quality"], direction="up", actor=ADMIN)  # already first
    topics.move_topic(db_session, topic_id=by_code["other"], direction="down", actor=ADMIN)  # already last
    assert codes(db_session) == ["quality", "money", "tariff", "home", "other"]
    assert actions(db_session) == ["support_topic_moved", "support_topic_moved"]


def test_moving_works_when_positions_are_equal(db_session):
    for row in db_session.scalars(select(SupportTopic)):
        row.position = 0
    db_session.commit()
    by_code = {t.code: t.id for t in topics.all_topics(db_session)}
    topics.move_topic(db_session, topic_id=by_code["other"], direction="up", actor=ADMIN)
    assert codes(db_session) == ["money", "tariff", "quality", "other", "home"]


def test_a_retired_topic_cannot_be_chosen_but_its_requests_keep_it(db_session):
    line = factories.make_line(db_session, "+79161234567")
    login = factories.make_login(db_session, line)
    db_session.commit()
    quality = next(t for t in topics.all_topics(db_session) if t.code == "quality")

    def open_one(key):
        return support.open_request(db_session, login_id=login.id, account_id=line.id, category="quality",
                                    text="No signal", idempotency_key=key, actor=Actor(login_id=login.id), now=NOW,
                                    per_day=10)

    opened = open_one("a" * 24)
    topics.set_topic_active(db_session, topic_id=quality.id, active=False, actor=ADMIN)
    topics.set_topic_active(db_session, topic_id=quality.id, active=False, actor=ADMIN)  # twice: one event
    with pytest.raises(support.InvalidRequest) as refused:
        open_one("b" * 24)
    assert refused.value.field == "category"
    assert support.request_of_login(db_session, opened.request_id, login.id).category == "quality"
    assert not topics.topic(db_session, quality.id).active and "quality" in codes(db_session)
    topics.set_topic_active(db_session, topic_id=quality.id, active=True, actor=ADMIN)
    assert open_one("c" * 24).done
    assert [a for a in actions(db_session) if a.startswith("support_topic")] == ["support_topic_retired",
                                                                                 "support_topic_restored"]


def test_saved_answers_are_added_once_changed_and_deleted_with_an_audit(db_session):
    money = topics.all_topics(db_session)[0]
    created = topics.add_answer(db_session, title=" Payment  late ", text="Dear {name},\r\nwait a day.",
                                topic_id=money.id, idempotency_key="s" * 24, actor=ADMIN, now=NOW)
    answer = db_session.get(SavedAnswer, created.id)
    assert (answer.title, answer.text, answer.topic_id) == ("Payment late", "Dear {name},\nwait a day.", money.id)
    assert not topics.add_answer(db_session, title="Other", text="x", topic_id=None, idempotency_key="s" * 24,
                                 actor=ADMIN, now=NOW).done
    topics.change_answer(db_session, answer_id=created.id, title="Payment is late", text="Wait a day.",
                         topic_id=None, actor=ADMIN, now=NOW)
    assert (db_session.get(SavedAnswer, created.id).topic_id, topics.saved_answers(db_session)[0].title) == (
        None, "Payment is late")
    topics.delete_answer(db_session, answer_id=created.id, actor=ADMIN)
    topics.delete_answer(db_session, answer_id=created.id, actor=ADMIN)  # twice: nothing more
    assert topics.saved_answers(db_session) == []
    assert actions(db_session) == ["saved_answer_added", "saved_answer_changed", "saved_answer_deleted"]


@pytest.mark.parametrize("title, text, topic_id, field", [
    ("", "text", None, "title"),
    ("t" * 121, "text", None, "title"),
    ("Title", "  ", None, "text"),
    ("Title", "x" * 4001, None, "text"),
    ("Title", "text", 999, "topic_id"),
])
def test_a_saved_answer_needs_a_title_a_text_and_a_real_topic(db_session, title, text, topic_id, field):
    with pytest.raises(topics.InvalidTopic) as refused:
        topics.add_answer(db_session, title=title, text=text, topic_id=topic_id, idempotency_key="s" * 24,
                          actor=ADMIN, now=NOW)
    assert refused.value.field == field


def test_placeholders_are_filled_for_the_request_and_stray_braces_stay():
    assert topics.fill("{name}, line {number}: {unknown} {", number="+7 916 123-45-67", name="Ivan") == (
        "Ivan, line +7 916 123-45-67: {unknown} {")


def test_an_answer_is_filled_with_the_number_or_the_contract(db_session):
    customer = factories.make_customer(db_session, name="Anna Petrova")
    line = factories.make_line(db_session, "+79161234567", customer=customer)
    home = factories.make_home_contract(db_session, "HC-100200", customer=customer)
    login = factories.make_login(db_session, line)
    db_session.commit()
    created = topics.add_answer(db_session, title="Hello", text="{name}: {number}", topic_id=None,
                                idempotency_key="s" * 24, actor=ADMIN, now=NOW)
    ids = []
    for key, account in (("a" * 24, line), ("b" * 24, home)):
        ids.append(support.open_request(db_session, login_id=login.id, account_id=account.id, category="other",
                                        text="Hi", idempotency_key=key, actor=Actor(login_id=login.id), now=NOW,
                                        per_day=10).request_id)
    assert [topics.answer_for_request(db_session, answer_id=created.id, request_id=i) for i in ids] == [
        "Anna Petrova: +7 916 123-45-67", "Anna Petrova: HC-100200"]
    with pytest.raises(NotFound):
        topics.answer_for_request(db_session, answer_id=999, request_id=ids[0])


def test_answers_of_the_requests_topic_come_first(db_session):
    by_code = {t.code: t.id for t in topics.all_topics(db_session)}
    for i, (title, code) in enumerate([("A money", "money"), ("B any", None), ("C quality", "quality")]):
        topics.add_answer(db_session, title=title, text="x", topic_id=by_code.get(code), idempotency_key=str(i) * 24,
                          actor=ADMIN, now=NOW)
    assert [t for _id, t in topics.answer_choices(db_session, "quality")] == ["C quality", "B any", "A money"]
    assert [t for _id, t in topics.answer_choices(db_session, "money")] == ["A money", "B any", "C quality"]


def test_the_tests_put_back_the_same_topics_the_migration_inserts():
    import importlib.util
    from pathlib import Path

    path = next((Path(__file__).parents[2] / "migrations" / "versions").glob("*_a7c4e2f19b03_*.py"))
    spec = importlib.util.spec_from_file_location("topics_migration", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    assert [(t["code"], t["name_ru"], t["name_en"]) for t in factories.DEFAULT_TOPICS] == migration.TOPICS
