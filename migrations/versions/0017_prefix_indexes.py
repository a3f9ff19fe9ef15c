""""Starts with" on the big grids' names and numbers: btree indexes over lower(column) with
text_pattern_ops, which PostgreSQL scans by the prefix's range (app.views.grid.FilterPrefix);
over no rows on SQLite, as the trigram indexes

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 14:40:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

PREFIX_INDEXES = (
    ('company', 'ix_company_name_prefix', 'name'),
    ('applicant', 'ix_applicant_full_name_prefix', 'full_name'),
    ('dossier', 'ix_dossier_receipt_number_prefix', 'receipt_number'),
    ('register_entry', 'ix_register_entry_permit_number_prefix', 'permit_number'),
)


def upgrade():
    for table, name, column in PREFIX_INDEXES:
        expression = sa.func.lower(sa.literal_column(column)).label(f'{column}_lower')
        op.create_index(name, table, [expression], postgresql_ops={f'{column}_lower': 'text_pattern_ops'},
                        sqlite_where=sa.text('0'))
    if op.get_bind().dialect.name == 'postgresql':
        # The planner knows an expression's values only once analysed: until then it would keep
        # walking the sort index.
        for table, _, _ in PREFIX_INDEXES:
            op.execute(f'ANALYZE {table}')


def downgrade():
    for table, name, _ in PREFIX_INDEXES:
        op.drop_index(name, table_name=table)
