"""Dossiers of one status in promise order: the office's at-risk list and the grid's overdue
filter read the dossiers in progress by due date without walking the archived ones

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 17:45:00.000000

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_dossier_status_due_id', 'dossier', ['status', 'due_at', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_dossier_status_due_id', table_name='dossier')
