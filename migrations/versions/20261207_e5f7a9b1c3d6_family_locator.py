"""The family locator: consents to see where a number is, the lookups made, a line's "used by a child" mark

Revision ID: e5f7a9b1c3d6
Revises: f6b8d0e2a4c6
Create Date: 2026-12-07 16:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'e5f7a9b1c3d6'
down_revision = 'f6b8d0e2a4c6'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("line") as batch:
        batch.add_column(sa.Column("used_by_child", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table(
        "locator_consent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seeker_account_id", sa.Integer(), nullable=False),
        sa.Column("target_msisdn", sa.String(length=16), nullable=False),
        sa.Column("target_account_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("code_hash", sa.String(length=255), nullable=True),
        sa.Column("wrong_codes", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decided_by", sa.String(length=8), nullable=True),
        sa.ForeignKeyConstraint(["seeker_account_id"], ["account.id"],
                                name=op.f("fk_locator_consent_seeker_account_id_account")),
        sa.ForeignKeyConstraint(["target_account_id"], ["account.id"],
                                name=op.f("fk_locator_consent_target_account_id_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_locator_consent")),
    )
    op.create_index("ix_locator_consent_seeker_state", "locator_consent", ["seeker_account_id", "state"])
    op.create_index(op.f("ix_locator_consent_target_account_id"), "locator_consent", ["target_account_id"])
    op.create_table(
        "locator_lookup",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consent_id", sa.Integer(), nullable=False),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("accuracy_m", sa.Integer(), nullable=True),
        sa.Column("located_at", sa.DateTime(), nullable=True),
        sa.Column("place", sa.String(length=120), nullable=True),
        sa.Column("failure", sa.String(length=120), nullable=True),
        sa.Column("noticed", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["consent_id"], ["locator_consent.id"],
                                name=op.f("fk_locator_lookup_consent_id_locator_consent")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_locator_lookup")),
    )
    op.create_index(op.f("ix_locator_lookup_consent_id"), "locator_lookup", ["consent_id"])


def downgrade():
    op.drop_index(op.f("ix_locator_lookup_consent_id"), table_name="locator_lookup")
    op.drop_table("locator_lookup")
    op.drop_index(op.f("ix_locator_consent_target_account_id"), table_name="locator_consent")
    op.drop_index("ix_locator_consent_seeker_state", table_name="locator_consent")
    op.drop_table("locator_consent")
    with op.batch_alter_table("line") as batch:
        batch.drop_column("used_by_child")
