"""documents customers accept with an SMS code, and the proof of each acceptance

Revision ID: 5e2f9a3b8c41
Revises: 4d1e8b2c7f90
Create Date: 2026-12-07 08:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '5e2f9a3b8c41'
down_revision = '4d1e8b2c7f90'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'policy_document',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('slug', sa.String(length=40), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('body_hash', sa.String(length=64), nullable=False),
        sa.Column('published_at', sa.DateTime(), nullable=False),
        sa.Column('published_by', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['published_by'], ['staff.id'], name=op.f('fk_policy_document_published_by_staff')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_policy_document')),
        sa.UniqueConstraint('slug', 'version', name='uq_policy_document_version'),
    )
    op.create_table(
        'document_acceptance',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('document_id', sa.Integer(), nullable=False),
        sa.Column('login_id', sa.Integer(), nullable=False),
        sa.Column('accepted_at', sa.DateTime(), nullable=False),
        sa.Column('ip', sa.String(length=45), nullable=True),
        sa.Column('document_hash', sa.String(length=64), nullable=False),
        sa.Column('code_hash', sa.String(length=255), nullable=False),
        sa.Column('phone', sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(['document_id'], ['policy_document.id'],
                                name=op.f('fk_document_acceptance_document_id_policy_document')),
        sa.ForeignKeyConstraint(['login_id'], ['login.id'], name=op.f('fk_document_acceptance_login_id_login')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_document_acceptance')),
        sa.UniqueConstraint('document_id', 'login_id', name='uq_document_acceptance_login'),
    )
    with op.batch_alter_table('document_acceptance', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_document_acceptance_login_id'), ['login_id'], unique=False)


def downgrade():
    with op.batch_alter_table('document_acceptance', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_document_acceptance_login_id'))
    op.drop_table('document_acceptance')
    op.drop_table('policy_document')
