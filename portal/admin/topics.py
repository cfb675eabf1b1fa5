"""Support topics and saved answers (admins only: support staff get 403): add, rename, reorder, retire and
restore topics; add, edit and delete saved answers. The rules and the audit are in portal.domain.support.topics."""
from flask import abort, flash, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from portal.admin import bp
from portal.domain.errors import DomainError, NotFound
from portal.domain.support import topics
from portal.extensions import db
from portal.formatting import reader_locale
from portal.forms import IdempotentForm, PortalForm
from portal.models import utcnow
from portal.support.forms import strip
from portal.web import admin_required, current_actor, render, see_other


def _name(label):
    return StringField(label, filters=[strip], validators=[Length(max=topics.NAME_LENGTH)],
                       render_kw={"maxlength": topics.NAME_LENGTH})


class RenameForm(PortalForm):
    name_ru = _name(_l("Name in Russian"))
    name_en = _name(_l("Name in English"))


class TopicForm(IdempotentForm, RenameForm):
    code = StringField(_l("Code"), filters=[strip],
                       validators=[DataRequired(_l("Give the topic a code.")), Length(max=20)],
                       render_kw={"maxlength": 20, "autocomplete": "off", "spellcheck": "false"})


class AnswerForm(IdempotentForm):
    title = StringField(_l("Title"), filters=[strip],
                        validators=[DataRequired(_l("Give the answer a title.")), Length(max=topics.TITLE_LENGTH)],
                        render_kw={"maxlength": topics.TITLE_LENGTH})
    text = TextAreaField(_l("Text"), filters=[strip],
                         validators=[DataRequired(_l("Type the text.")), Length(max=topics.ANSWER_LENGTH)],
                         render_kw={"rows": 6, "maxlength": topics.ANSWER_LENGTH})
    topic_id = SelectField(_l("Topic"), choices=[])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        language = reader_locale()
        self.topic_id.choices = [("", _l("any topic")),
                                 *((str(t.id), t.name(language)) for t in topics.all_topics(db.session))]

    @property
    def topic(self) -> int | None:
        return int(self.topic_id.data) if self.topic_id.data else None


# ---- topics ----------------------------------------------------------------------------------------------------

def _topics_page(form: TopicForm, *, status: int = 200):
    return render("admin/support_topics.html", status=status, form=form, topics=topics.all_topics(db.session),
                  language=reader_locale())


@bp.get("/support/topics")
@admin_required
def support_topics():
    return _topics_page(TopicForm(formdata=None))


@bp.post("/support/topics")
@admin_required
def add_support_topic():
    form = TopicForm()
    if form.validate_on_submit():
        try:
            created = topics.add_topic(db.session, code=form.code.data, name_ru=form.name_ru.data,
                                       name_en=form.name_en.data, idempotency_key=form.idempotency_key.data,
                                       actor=current_actor())
        except DomainError as err:
            db.session.rollback()
            form.add_domain_error(err)
        else:
            if created.done:
                flash(_("The topic is added."))
            return see_other(".support_topics")
    return _topics_page(form, status=form.status)


def _topic_or_404(topic_id: int) -> topics.Topic:
    try:
        return topics.topic(db.session, topic_id)
    except NotFound:
        abort(404)


def _rename_page(topic: topics.Topic, form: RenameForm, *, status: int = 200):
    return render("admin/support_topic.html", status=status, topic=topic, form=form, language=reader_locale())


@bp.get("/support/topics/<int:topic_id>")
@admin_required
def support_topic(topic_id: int):
    topic = _topic_or_404(topic_id)
    return _rename_page(topic, RenameForm(formdata=None, name_ru=topic.name_ru, name_en=topic.name_en))


@bp.post("/support/topics/<int:topic_id>")
@admin_required
def rename_support_topic(topic_id: int):
    topic = _topic_or_404(topic_id)
    form = RenameForm()
    if form.validate_on_submit():
        try:
            topics.rename_topic(db.session, topic_id=topic.id, name_ru=form.name_ru.data, name_en=form.name_en.data,
                                actor=current_actor())
        except DomainError as err:
            db.session.rollback()
            form.add_domain_error(err)
        else:
            flash(_("The topic is renamed."))
            return see_other(".support_topics")
    return _rename_page(topic, form, status=form.status)


@bp.post("/support/topics/<int:topic_id>/move")
@admin_required
def move_support_topic(topic_id: int):
    """One place up or down (a button each: no JS needed)."""
    topic = _topic_or_404(topic_id)
    if not PortalForm().validate_on_submit() or request.form.get("direction") not in ("up", "down"):
        abort(400)
    topics.move_topic(db.session, topic_id=topic.id, direction=request.form["direction"], actor=current_actor())
    return see_other(".support_topics", _anchor=f"topic-{topic.id}")


@bp.post("/support/topics/<int:topic_id>/active")
@admin_required
def retire_support_topic(topic_id: int):
    """Retire (``active`` 0) or restore (``active`` 1) a topic."""
    topic = _topic_or_404(topic_id)
    if not PortalForm().validate_on_submit() or request.form.get("active") not in ("0", "1"):
        abort(400)
    active = request.form["active"] == "1"
    topics.set_topic_active(db.session, topic_id=topic.id, active=active, actor=current_actor())
    name = topic.name(reader_locale())
    flash(_("«%(name)s» is back in the new-request form.", name=name) if active
          else _("«%(name)s» is retired: new requests cannot choose it.", name=name))
    return see_other(".support_topics")


# ---- saved answers ---------------------------------------------------------------------------------------------

def _answers_page(form: AnswerForm, *, status: int = 200):
    language = reader_locale()
    names = {t.id: t.name(language) for t in topics.all_topics(db.session)}
    return render("admin/saved_answers.html", status=status, form=form, answers=topics.saved_answers(db.session),
                  names=names)


@bp.get("/support/answers")
@admin_required
def saved_answers():
    return _answers_page(AnswerForm(formdata=None))


@bp.post("/support/answers")
@admin_required
def add_saved_answer():
    form = AnswerForm()
    if form.validate_on_submit():
        try:
            created = topics.add_answer(db.session, title=form.title.data, text=form.text.data, topic_id=form.topic,
                                        idempotency_key=form.idempotency_key.data, actor=current_actor(),
                                        now=utcnow())
        except DomainError as err:
            db.session.rollback()
            form.add_domain_error(err)
        else:
            if created.done:
                flash(_("The saved answer is added."))
            return see_other(".saved_answers")
    return _answers_page(form, status=form.status)


def _answer_or_404(answer_id: int):
    try:
        return topics.saved_answer(db.session, answer_id)
    except NotFound:
        abort(404)


def _answer_page(answer, form: AnswerForm, *, status: int = 200):
    return render("admin/saved_answer.html", status=status, answer=answer, form=form)


@bp.get("/support/answers/<int:answer_id>")
@admin_required
def saved_answer(answer_id: int):
    answer = _answer_or_404(answer_id)
    form = AnswerForm(formdata=None, title=answer.title, text=answer.text,
                      topic_id=str(answer.topic_id) if answer.topic_id else "")
    return _answer_page(answer, form)


@bp.post("/support/answers/<int:answer_id>")
@admin_required
def change_saved_answer(answer_id: int):
    answer = _answer_or_404(answer_id)
    form = AnswerForm()
    if form.validate_on_submit():
        try:
            topics.change_answer(db.session, answer_id=answer.id, title=form.title.data, text=form.text.data,
                                 topic_id=form.topic, actor=current_actor(), now=utcnow())
        except DomainError as err:
            db.session.rollback()
            form.add_domain_error(err)
        else:
            flash(_("The saved answer is saved."))
            return see_other(".saved_answers")
    return _answer_page(_answer_or_404(answer_id), form, status=form.status)


@bp.post("/support/answers/<int:answer_id>/delete")
@admin_required
def delete_saved_answer(answer_id: int):
    answer = _answer_or_404(answer_id)
    if not PortalForm().validate_on_submit():
        abort(400)
    topics.delete_answer(db.session, answer_id=answer.id, actor=current_actor())
    flash(_("The saved answer is deleted."))
    return see_other(".saved_answers")
