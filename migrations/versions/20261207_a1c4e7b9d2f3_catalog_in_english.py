"""The catalog in English too: a tariff's and a service's name and description for readers of English

Revision ID: a1c4e7b9d2f3
Revises: 9e3a7c1d5b42
Create Date: 2026-12-07 13:10:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a1c4e7b9d2f3'
down_revision = '9e3a7c1d5b42'
branch_labels = None
depends_on = None


def upgrade():
    for table in ("tariff", "service"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("name_en", sa.String(length=100), nullable=True))
            batch.add_column(sa.Column("description_en", sa.Text(), nullable=True))


def downgrade():
    for table in ("tariff", "service"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("description_en")
            batch.drop_column("name_en")
