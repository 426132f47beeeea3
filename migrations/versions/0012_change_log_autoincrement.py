"""change log numbers never reused: SQLite's sync_change takes AUTOINCREMENT

A pull cursor is a position in the change log. SQLite gives a plain INTEGER PRIMARY KEY the largest
number plus one, so a number can come back; with AUTOINCREMENT it never does, and a restored hub can
move the log's numbering past every cursor its devices hold (`flask restore`, app.backup). PostgreSQL's
sequence already never goes back.

Revision ID: 0012_change_log_autoincrement
Revises: 0011_throttle_count
Create Date: 2026-12-06 18:40:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0012_change_log_autoincrement'
down_revision = '0011_throttle_count'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != "sqlite":
        return
    # Recreated with its rows and indexes; copying the rows sets sqlite_sequence to the largest number.
    with op.batch_alter_table('sync_change', recreate='always', table_kwargs={'sqlite_autoincrement': True}):
        pass


def downgrade():
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table('sync_change', recreate='always', table_kwargs={'sqlite_autoincrement': False}):
        pass
