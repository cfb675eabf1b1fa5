"""Support attachments (issue 17, point 1): a photo or screenshot on a support message, stored as a file outside
the static files

Revision ID: a7c4e2f91b30
Revises: a7c4e2f19b03
Create Date: 2026-12-07 12:50:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a7c4e2f91b30'
down_revision = 'a7c4e2f19b03'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('support_attachment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('stored_name', sa.String(length=40), nullable=False),
    sa.Column('original_name', sa.String(length=100), nullable=False),
    sa.Column('content_type', sa.String(length=20), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('thumb_width', sa.Integer(), nullable=False),
    sa.Column('thumb_height', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("content_type in ('image/jpeg', 'image/png')", name=op.f('ck_support_attachment_content_type')),
    sa.ForeignKeyConstraint(['message_id'], ['support_message.id'],
                            name=op.f('fk_support_attachment_message_id_support_message')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_support_attachment')),
    sa.UniqueConstraint('stored_name', name=op.f('uq_support_attachment_stored_name'))
    )
    with op.batch_alter_table('support_attachment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_support_attachment_message_id'), ['message_id'], unique=False)


def downgrade():
    with op.batch_alter_table('support_attachment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_support_attachment_message_id'))

    op.drop_table('support_attachment')
