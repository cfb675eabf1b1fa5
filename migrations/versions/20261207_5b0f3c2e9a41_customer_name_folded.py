"""customer name folded for staff search; wrong 3-D Secure codes counted per card payment

Revision ID: 5b0f3c2e9a41
Revises: 5f1e2d3c4b5a
Create Date: 2026-12-07 00:50:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '5b0f3c2e9a41'
down_revision = '5f1e2d3c4b5a'
branch_labels = None
depends_on = None


def fold_name(text):
    # A copy of portal.models.customers.fold_name: a migration must not change when the model does.
    return " ".join((text or "").casefold().replace("ё", "е").split())


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_folded', sa.String(length=200), nullable=False, server_default=''))
    customer = sa.table('customer', sa.column('id', sa.Integer), sa.column('name', sa.String),
                        sa.column('name_folded', sa.String))
    for row in bind.execute(sa.select(customer.c.id, customer.c.name)).all():
        bind.execute(customer.update().where(customer.c.id == row.id).values(name_folded=fold_name(row.name)))
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.alter_column('name_folded', server_default=None)
        batch_op.create_index('ix_customer_name_folded_trgm', ['name_folded'], unique=False,
                              postgresql_using='gin', postgresql_ops={'name_folded': 'gin_trgm_ops'})
    with op.batch_alter_table('card_payment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('three_ds_failures', sa.Integer(), nullable=False, server_default='0'))
    with op.batch_alter_table('card_payment', schema=None) as batch_op:
        batch_op.alter_column('three_ds_failures', server_default=None)


def downgrade():
    with op.batch_alter_table('card_payment', schema=None) as batch_op:
        batch_op.drop_column('three_ds_failures')
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.drop_index('ix_customer_name_folded_trgm', postgresql_using='gin')
        batch_op.drop_column('name_folded')
