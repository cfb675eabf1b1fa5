"""service notices: outages and planned works for a scope of accounts, their updates, the SMS sent per phase;
the alert setting for them

Revision ID: 9d3f5a7c1e20
Revises: 9d2f4b7a1c58
Create Date: 2026-12-07 07:40:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '9d3f5a7c1e20'
down_revision = '9d2f4b7a1c58'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'service_notice',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('title', sa.String(length=120), nullable=False),
        sa.Column('text', sa.String(length=2000), nullable=False),
        sa.Column('scope', sa.String(length=12), nullable=False),
        sa.Column('scope_value', sa.String(length=200), nullable=False),
        sa.Column('starts_at', sa.DateTime(), nullable=False),
        sa.Column('expected_end', sa.DateTime(), nullable=True),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('open', sa.Boolean(), nullable=False),
        sa.Column('ended_at', sa.DateTime(), nullable=True),
        sa.Column('published_by_staff_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('sms_done', sa.String(length=8), nullable=True),
        sa.CheckConstraint("kind in ('outage', 'works')", name=op.f('ck_service_notice_kind')),
        sa.CheckConstraint("scope in ('mobile', 'region', 'connection', 'address')",
                           name=op.f('ck_service_notice_scope')),
        sa.ForeignKeyConstraint(['published_by_staff_id'], ['staff.id'],
                                name=op.f('fk_service_notice_published_by_staff_id_staff')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_service_notice')),
    )
    with op.batch_alter_table('service_notice', schema=None) as batch_op:
        batch_op.create_index('ix_service_notice_open_ended', ['open', 'ended_at'], unique=False)
    op.create_table(
        'service_notice_update',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('notice_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('text', sa.String(length=1000), nullable=False),
        sa.Column('state_from', sa.String(length=16), nullable=True),
        sa.Column('state_to', sa.String(length=16), nullable=True),
        sa.Column('staff_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['notice_id'], ['service_notice.id'],
                                name=op.f('fk_service_notice_update_notice_id_service_notice')),
        sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_service_notice_update_staff_id_staff')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_service_notice_update')),
    )
    with op.batch_alter_table('service_notice_update', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_notice_update_notice_id'), ['notice_id'], unique=False)
    op.create_table(
        'notice_sms',
        sa.Column('notice_id', sa.Integer(), nullable=False),
        sa.Column('phase', sa.String(length=8), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_notice_sms_account_id_account')),
        sa.ForeignKeyConstraint(['notice_id'], ['service_notice.id'],
                                name=op.f('fk_notice_sms_notice_id_service_notice')),
        sa.PrimaryKeyConstraint('notice_id', 'phase', 'account_id', name=op.f('pk_notice_sms')),
    )
    with op.batch_alter_table('notice_sms', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notice_sms_account_id'), ['account_id'], unique=False)
    with op.batch_alter_table('alert_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('on_outages', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade():
    with op.batch_alter_table('alert_settings', schema=None) as batch_op:
        batch_op.drop_column('on_outages')
    op.drop_table('notice_sms')
    op.drop_table('service_notice_update')
    op.drop_table('service_notice')
