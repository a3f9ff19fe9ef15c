"""The company grid's default sort by (name, id): its page of ids is an index-only scan, also while
"name contains" skips most of the index (replaces ix_company_name on name alone)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 17:15:00.000000

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_company_name_id', 'company', ['name', 'id'], unique=False)
    op.drop_index('ix_company_name', table_name='company')


def downgrade():
    op.create_index('ix_company_name', 'company', ['name'], unique=False)
    op.drop_index('ix_company_name_id', table_name='company')
