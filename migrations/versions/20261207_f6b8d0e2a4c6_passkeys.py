"""Passkeys (WebAuthn credentials) of logins and staff; staff who must sign in with one

Revision ID: f6b8d0e2a4c6
Revises: e5f7a9c1d3b5
Create Date: 2026-12-07 16:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'f6b8d0e2a4c6'
down_revision = 'e5f7a9c1d3b5'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "passkey",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("login_id", sa.Integer(), nullable=True),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("credential_id", sa.String(length=1400), nullable=False),
        sa.Column("user_handle", sa.String(length=100), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("sign_count", sa.Integer(), nullable=False),
        sa.Column("transports", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_used_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("(login_id IS NULL) <> (staff_id IS NULL)", name=op.f("ck_passkey_one_owner")),
        sa.ForeignKeyConstraint(["login_id"], ["login.id"], name=op.f("fk_passkey_login_id_login")),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_passkey_staff_id_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_passkey")),
        sa.UniqueConstraint("credential_id", name=op.f("uq_passkey_credential_id")),
    )
    with op.batch_alter_table("passkey", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_passkey_login_id"), ["login_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_passkey_staff_id"), ["staff_id"], unique=False)
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.add_column(sa.Column("passkey_required", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade():
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.drop_column("passkey_required")
    with op.batch_alter_table("passkey", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_passkey_staff_id"))
        batch_op.drop_index(batch_op.f("ix_passkey_login_id"))
    op.drop_table("passkey")
