"""device restart: a field device whose sequence went back below what the hub acknowledged

Revision ID: 0010_device_restart
Revises: 0009_checklist_release
Create Date: 2026-12-06 16:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010_device_restart'
down_revision = '0009_checklist_release'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('device', schema=None) as batch_op:
        batch_op.add_column(sa.Column('restart_seen_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('restart_seq', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('restart_acked_seq', sa.BigInteger(), nullable=True))


def downgrade():
    with op.batch_alter_table('device', schema=None) as batch_op:
        batch_op.drop_column('restart_acked_seq')
        batch_op.drop_column('restart_seq')
        batch_op.drop_column('restart_seen_at')
