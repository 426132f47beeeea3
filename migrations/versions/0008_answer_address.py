"""answer address: answers and photo links are keyed by an address (`alat[2]/kondisi`), longer than an item id

Revision ID: 0008_answer_address
Revises: 0007_answer_version
Create Date: 2026-12-06 12:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008_answer_address'
down_revision = '0007_answer_version'
branch_labels = None
depends_on = None


def upgrade():
    for table in ('answer', 'answer_photo'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('item_id', existing_type=sa.String(length=64), type_=sa.String(length=255),
                                  existing_nullable=False)


def downgrade():
    for table in ('answer', 'answer_photo'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('item_id', existing_type=sa.String(length=255), type_=sa.String(length=64),
                                  existing_nullable=False)
