"""home pause and scheduled tariff changes

Tariffs say which connection types carry them, when a switch takes effect and the fee while paused;
home contracts get holiday pauses and tariff changes scheduled for the next billing period.

Revision ID: ea49e9c0cdcc
Revises: c81586a64c1d
Create Date: 2026-11-29 01:58:30.937146

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'ea49e9c0cdcc'
down_revision = 'c81586a64c1d'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'home_pause',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('start_on', sa.Date(), nullable=False),
        sa.Column('resume_on', sa.Date(), nullable=False),
        sa.Column('monthly_fee', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('ended_on', sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_home_pause_account_id_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_home_pause')),
    )
    with op.batch_alter_table('home_pause', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_home_pause_account_id'), ['account_id'], unique=False)

    op.create_table(
        'scheduled_tariff_change',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('tariff_id', sa.Integer(), nullable=False),
        sa.Column('effective_on', sa.Date(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('applied_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['account.id'],
                                name=op.f('fk_scheduled_tariff_change_account_id_account')),
        sa.ForeignKeyConstraint(['tariff_id'], ['tariff.id'], name=op.f('fk_scheduled_tariff_change_tariff_id_tariff')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_scheduled_tariff_change')),
    )
    with op.batch_alter_table('scheduled_tariff_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scheduled_tariff_change_account_id'), ['account_id'], unique=False)

    with op.batch_alter_table('tariff', schema=None) as batch_op:
        batch_op.add_column(sa.Column('connection_types', sa.String(length=64), server_default='', nullable=False))
        batch_op.add_column(sa.Column('change_effective', sa.String(length=16), server_default='now',
                                      nullable=False))
        batch_op.add_column(sa.Column('pause_monthly_fee', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('tariff', schema=None) as batch_op:
        batch_op.drop_column('pause_monthly_fee')
        batch_op.drop_column('change_effective')
        batch_op.drop_column('connection_types')

    with op.batch_alter_table('scheduled_tariff_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scheduled_tariff_change_account_id'))
    op.drop_table('scheduled_tariff_change')

    with op.batch_alter_table('home_pause', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_home_pause_account_id'))
    op.drop_table('home_pause')
