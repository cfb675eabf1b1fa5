"""The customer's code word for calls to support, kept as a hash

Revision ID: d4e6a8b0c2f4
Revises: c3d5f7a9b1e2
Create Date: 2026-12-07 14:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'd4e6a8b0c2f4'
down_revision = 'c3d5f7a9b1e2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "code_word",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("word_hash", sa.String(length=255), nullable=False),
        sa.Column("set_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"], name=op.f("fk_code_word_customer_id_customer")),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_code_word")),
    )


def downgrade():
    op.drop_table("code_word")
