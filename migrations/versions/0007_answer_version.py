"""answer version: each answer's value carries a counter, so a stale save from a second tab is refused

Revision ID: 0007_answer_version
Revises: 0006_device_tree
Create Date: 2026-12-06 06:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007_answer_version'
down_revision = '0006_device_tree'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('answer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('answer', schema=None) as batch_op:
        batch_op.drop_column('version')
