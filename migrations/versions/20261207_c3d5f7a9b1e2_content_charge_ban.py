"""The content-charge ban: a line that refuses paid subscriptions started by content providers, and the attempts
it refused

Revision ID: c3d5f7a9b1e2
Revises: a7c4e2f91b30
Create Date: 2026-12-07 13:40:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c3d5f7a9b1e2'
down_revision = 'a7c4e2f91b30'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "content_ban",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("since", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], name=op.f("fk_content_ban_account_id_account")),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_content_ban")),
    )
    op.create_table(
        "content_refusal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=60), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=True),
        sa.Column("service_code", sa.String(length=40), nullable=False),
        sa.Column("request_key", sa.String(length=64), nullable=False),
        sa.Column("attempted_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], name=op.f("fk_content_refusal_account_id_account")),
        sa.ForeignKeyConstraint(["service_id"], ["service.id"], name=op.f("fk_content_refusal_service_id_service")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_refusal")),
        sa.UniqueConstraint("request_key", name=op.f("uq_content_refusal_request_key")),
    )
    with op.batch_alter_table("content_refusal") as batch:
        batch.create_index(batch.f("ix_content_refusal_account_id"), ["account_id"], unique=False)


def downgrade():
    with op.batch_alter_table("content_refusal") as batch:
        batch.drop_index(batch.f("ix_content_refusal_account_id"))
    op.drop_table("content_refusal")
    op.drop_table("content_ban")
