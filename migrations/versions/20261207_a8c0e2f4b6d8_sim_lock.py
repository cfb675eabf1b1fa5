"""The SIM-swap and port-out lock, the line's SIM (ICCID), staff actions awaiting a second check, port-outs

Revision ID: a8c0e2f4b6d8
Revises: e5f7a9b1c3d6
Create Date: 2026-12-07 16:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a8c0e2f4b6d8'
down_revision = 'e5f7a9b1c3d6'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("line") as batch:
        batch.add_column(sa.Column("iccid", sa.String(length=20), nullable=True))
    op.create_table(
        "sim_lock",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("since", sa.DateTime(), nullable=False),
        sa.Column("release_requested_at", sa.DateTime(), nullable=True),
        sa.Column("release_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], name=op.f("fk_sim_lock_account_id_account")),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_sim_lock")),
    )
    op.create_table(
        "guarded_action",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("requested_by", sa.Integer(), nullable=False),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column("approved_by", sa.Integer(), nullable=True),
        sa.Column("document_type", sa.String(length=24), nullable=True),
        sa.Column("document_last4", sa.String(length=4), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], name=op.f("fk_guarded_action_account_id_account")),
        sa.ForeignKeyConstraint(["requested_by"], ["staff.id"], name=op.f("fk_guarded_action_requested_by_staff")),
        sa.ForeignKeyConstraint(["approved_by"], ["staff.id"], name=op.f("fk_guarded_action_approved_by_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guarded_action")),
    )
    op.create_index("ix_guarded_action_account", "guarded_action", ["account_id", "state"])
    op.create_table(
        "port_out",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("recipient", sa.String(length=80), nullable=False),
        sa.Column("requested_on", sa.Date(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], name=op.f("fk_port_out_account_id_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_port_out")),
    )
    op.create_index("ix_port_out_account", "port_out", ["account_id", "state"])


def downgrade():
    op.drop_index("ix_port_out_account", table_name="port_out")
    op.drop_table("port_out")
    op.drop_index("ix_guarded_action_account", table_name="guarded_action")
    op.drop_table("guarded_action")
    op.drop_table("sim_lock")
    with op.batch_alter_table("line") as batch:
        batch.drop_column("iccid")
