"""staff search by a part of a number: a trigram index on line.msisdn

On PostgreSQL a GIN trigram index (pg_trgm) serves ``msisdn LIKE '%1234%'``; SQLite gets a plain index
of the same name (as for ix_customer_name_folded_trgm), so the schema matches the models on both.

Revision ID: 3c7a9e1f5d20
Revises: 8c4d2e6f1a37
Create Date: 2026-12-07 04:20:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '3c7a9e1f5d20'
down_revision = '8c4d2e6f1a37'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    with op.batch_alter_table('line', schema=None) as batch_op:
        batch_op.create_index('ix_line_msisdn_trgm', ['msisdn'], unique=False,
                              postgresql_using='gin', postgresql_ops={'msisdn': 'gin_trgm_ops'})


def downgrade():
    with op.batch_alter_table('line', schema=None) as batch_op:
        batch_op.drop_index('ix_line_msisdn_trgm', postgresql_using='gin')
