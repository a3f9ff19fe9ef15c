"""The applicant grid's default sort by (full_name, id): a page of ids is an index-only scan even
when the planner walks the sort past the names a "starts with" skips (replaces
ix_applicant_full_name on full_name alone)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 17:30:00.000000

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_applicant_full_name_id', 'applicant', ['full_name', 'id'], unique=False)
    op.drop_index('ix_applicant_full_name', table_name='applicant')


def downgrade():
    op.create_index('ix_applicant_full_name', 'applicant', ['full_name'], unique=False)
    op.drop_index('ix_applicant_full_name_id', table_name='applicant')
