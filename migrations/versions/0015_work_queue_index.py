"""The work queues (home page): open dossiers by status and stage, the promise that runs out first on top

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 13:45:00.000000

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_dossier_status_stage_due', 'dossier', ['status', 'stage_id', 'due_at', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_dossier_status_stage_due', table_name='dossier')
