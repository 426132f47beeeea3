"""throttle count: sign-in and enrollment attempts counted in the database, shared by every worker process

Revision ID: 0011_throttle_count
Revises: 0010_device_restart
Create Date: 2026-12-06 19:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011_throttle_count'
down_revision = '0010_device_restart'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'throttle_count',
        sa.Column('key', sa.String(length=255), nullable=False),
        sa.Column('hits', sa.Integer(), nullable=False),
        sa.Column('expires_at', sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_throttle_count')),
    )
    with op.batch_alter_table('throttle_count', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_throttle_count_expires_at'), ['expires_at'], unique=False)


def downgrade():
    with op.batch_alter_table('throttle_count', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_throttle_count_expires_at'))
    op.drop_table('throttle_count')
