"""checklist release: the catalog's drafts and each version's state (published, retired) that travels to devices

Revision ID: 0009_checklist_release
Revises: 0008_answer_address
Create Date: 2026-12-06 12:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009_checklist_release'
down_revision = '0008_answer_address'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('checklist_release',
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('checklist_id', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('version_label', sa.String(length=80), nullable=True),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('content', sa.Text(), nullable=True),
    sa.Column('notes', sa.JSON(), nullable=False),
    sa.Column('source_name', sa.String(length=200), nullable=True),
    sa.Column('imported_by', sa.String(length=40), nullable=True),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('hlc', sa.String(length=24), nullable=True),
    sa.Column('origin_id', sa.Uuid(), nullable=True),
    sa.CheckConstraint("state IN ('draft', 'published', 'retired')", name=op.f('ck_checklist_release_state')),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_checklist_release'))
    )
    with op.batch_alter_table('checklist_release', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_checklist_release_checklist_id'), ['checklist_id'], unique=False)


def downgrade():
    with op.batch_alter_table('checklist_release', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_checklist_release_checklist_id'))
    op.drop_table('checklist_release')
