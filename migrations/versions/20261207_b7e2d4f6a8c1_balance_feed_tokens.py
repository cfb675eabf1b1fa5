"""The balance feed: named read-only keys to a login's balances, for widgets and scripts

Revision ID: b7e2d4f6a8c1
Revises: a1c4e7b9d2f3
Create Date: 2026-12-07 13:20:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b7e2d4f6a8c1'
down_revision = 'a1c4e7b9d2f3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "feed_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("login_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("hint", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_used_at", sa.DateTime(), nullable=True),
        sa.Column("last_used_ip", sa.String(length=45), nullable=True),
        sa.Column("uses", sa.Integer(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["login_id"], ["login.id"], name=op.f("fk_feed_token_login_id_login")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feed_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_feed_token_token_hash")),
    )
    with op.batch_alter_table("feed_token") as batch:
        batch.create_index(batch.f("ix_feed_token_login_id"), ["login_id"], unique=False)


def downgrade():
    with op.batch_alter_table("feed_token") as batch:
        batch.drop_index(batch.f("ix_feed_token_login_id"))
    op.drop_table("feed_token")
