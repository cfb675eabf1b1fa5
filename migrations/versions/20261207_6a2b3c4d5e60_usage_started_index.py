"""usage started index: the roll-up and the retention read a range of days without scanning the whole history

Revision ID: 6a2b3c4d5e60
Revises: 5b0f3c2e9a41
Create Date: 2026-12-07 05:00:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '6a2b3c4d5e60'
down_revision = '5b0f3c2e9a41'
branch_labels = None
depends_on = None


def upgrade():
    # BRIN on PostgreSQL (postgresql_using is ignored elsewhere: a B-tree on SQLite).
    op.create_index('ix_usage_record_started', 'usage_record', ['started_at'], unique=False,
                    postgresql_using='brin')


def downgrade():
    op.drop_index('ix_usage_record_started', table_name='usage_record')
