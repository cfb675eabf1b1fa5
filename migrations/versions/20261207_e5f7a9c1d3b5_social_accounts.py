"""Social sign-in: VK ID, Yandex ID… accounts linked to a login

Revision ID: e5f7a9c1d3b5
Revises: d4e6a8b0c2f4
Create Date: 2026-12-07 16:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'e5f7a9c1d3b5'
down_revision = 'd4e6a8b0c2f4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "social_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("login_id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("shown", sa.String(length=120), nullable=False),
        sa.Column("linked_at", sa.DateTime(), nullable=False),
        sa.Column("last_used_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["login_id"], ["login.id"], name=op.f("fk_social_account_login_id_login")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_social_account")),
        sa.UniqueConstraint("provider", "subject", name=op.f("uq_social_account_provider")),
        sa.UniqueConstraint("login_id", "provider", name=op.f("uq_social_account_login_id")),
    )
    with op.batch_alter_table("social_account") as batch:
        batch.create_index(batch.f("ix_social_account_login_id"), ["login_id"], unique=False)


def downgrade():
    with op.batch_alter_table("social_account") as batch:
        batch.drop_index(batch.f("ix_social_account_login_id"))
    op.drop_table("social_account")
