"""password request handled_at: the SMS-password job marks the requests it has looked up

Revision ID: 5e1f0c2a9d41
Revises: ac6b33b53165
Create Date: 2026-12-07 01:05:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '5e1f0c2a9d41'
down_revision = 'ac6b33b53165'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('password_request', schema=None) as batch_op:
        batch_op.add_column(sa.Column('handled_at', sa.DateTime(), nullable=True))
    # Requests made before this revision were handled in the request itself.
    op.execute("update password_request set handled_at = created_at")


def downgrade():
    with op.batch_alter_table('password_request', schema=None) as batch_op:
        batch_op.drop_column('handled_at')
