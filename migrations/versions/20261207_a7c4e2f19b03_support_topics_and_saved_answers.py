"""Support topics and saved answers (issue 17, point 4): the five fixed categories become rows admins manage
(requests keep the topic's code, now a foreign key); saved answers staff insert into a reply

Revision ID: a7c4e2f19b03
Revises: b7e2d4f6a8c1
Create Date: 2026-12-07 12:50:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a7c4e2f19b03'
down_revision = 'b7e2d4f6a8c1'
branch_labels = None
depends_on = None

# The categories the code had until now (portal/domain/support/__init__.py), with their Russian words from the
# catalog; literal here so the migration does not depend on the application's code of the day.
TOPICS = [
    ("money", "Деньги и платежи", "Money and payments"),
    ("tariff", "Тариф и услуги", "Tariff and services"),
    ("quality", "Качество связи", "Connection quality"),
    ("home", "Домашний интернет и ТВ", "Home internet and TV"),
    ("other", "Прочее", "Other"),
]


def upgrade():
    topic = op.create_table('support_topic',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name_ru', sa.String(length=80), nullable=False),
    sa.Column('name_en', sa.String(length=80), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_support_topic')),
    sa.UniqueConstraint('code', name=op.f('uq_support_topic_code'))
    )
    op.bulk_insert(topic, [{"code": code, "name_ru": ru, "name_en": en, "position": i, "active": True}
                           for i, (code, ru, en) in enumerate(TOPICS, start=1)])
    # A request of a category nobody knows (none should exist) keeps its word as a retired topic.
    op.execute("insert into support_topic (code, name_ru, name_en, position, active) "
               "select distinct category, category, category, 100, false from support_request "
               "where category not in (select code from support_topic)")

    op.create_table('saved_answer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('topic_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['topic_id'], ['support_topic.id'], name=op.f('fk_saved_answer_topic_id_support_topic')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_answer'))
    )
    with op.batch_alter_table('saved_answer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_saved_answer_topic_id'), ['topic_id'], unique=False)

    with op.batch_alter_table('support_request', schema=None) as batch_op:
        batch_op.create_foreign_key(batch_op.f('fk_support_request_category_support_topic'), 'support_topic',
                                    ['category'], ['code'])


def downgrade():
    with op.batch_alter_table('support_request', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_support_request_category_support_topic'), type_='foreignkey')

    with op.batch_alter_table('saved_answer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_saved_answer_topic_id'))

    op.drop_table('saved_answer')
    op.drop_table('support_topic')
