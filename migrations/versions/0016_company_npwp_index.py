"""The search box finds a company by its NPWP: an index on company.npwp (NIB and NIK have their
unique ones)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 13:40:00.000000

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_company_npwp', 'company', ['npwp'], unique=False)


def downgrade():
    op.drop_index('ix_company_npwp', table_name='company')
