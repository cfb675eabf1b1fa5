"""home session end and ip: a home internet session's end time and the address it was given

Revision ID: 64245aba4284
Revises: ea49e9c0cdcc
Create Date: 2026-11-29 01:58:24.539176

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '64245aba4284'
down_revision = 'ea49e9c0cdcc'
branch_labels = None
depends_on = None


def upgrade():
    # Nullable columns without defaults: an instant catalogue change on PostgreSQL and a plain ADD COLUMN on
    # SQLite (batch mode does not rebuild the table for additions), however many records there are.
    with op.batch_alter_table('usage_record', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ended_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('ip', sa.String(length=45), nullable=True))


def downgrade():
    with op.batch_alter_table('usage_record', schema=None) as batch_op:
        batch_op.drop_column('ip')
        batch_op.drop_column('ended_at')
