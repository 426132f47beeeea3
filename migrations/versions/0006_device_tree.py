"""device tree: the lower hub each relayed origin was first seen through; waiting changes per sender

Revision ID: 0006_device_tree
Revises: 0005_indicators
Create Date: 2026-12-06 03:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006_device_tree'
down_revision = '0005_indicators'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('device', schema=None) as batch_op:
        batch_op.add_column(sa.Column('parent_id', sa.Uuid(), nullable=True))
        batch_op.create_index(batch_op.f('ix_device_parent_id'), ['parent_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_device_parent_id_device'), 'device', ['parent_id'], ['id'])
    with op.batch_alter_table('sync_change', schema=None) as batch_op:
        batch_op.create_index('ix_sync_change_waiting', ['via_id', 'applied'], unique=False)


def downgrade():
    with op.batch_alter_table('sync_change', schema=None) as batch_op:
        batch_op.drop_index('ix_sync_change_waiting')
    with op.batch_alter_table('device', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_device_parent_id_device'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_device_parent_id'))
        batch_op.drop_column('parent_id')
