"""Every sortable and filterable column of the big grids has an index ending in id (the grid
sorts by the column, then by id), and on PostgreSQL the "contains" searches on names have GIN
trigram indexes (pg_trgm)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 11:30:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

# (table, index, columns): the same as the models' __table_args__.
INDEXES = (
    ('dossier', 'ix_dossier_due_id', ['due_at', 'id']),
    ('dossier', 'ix_dossier_status_id', ['status', 'id']),
    ('company', 'ix_company_legal_form_id', ['legal_form', 'id']),
    ('company', 'ix_company_kecamatan_id', ['kecamatan_code', 'id']),
    ('applicant', 'ix_applicant_position_id', ['position', 'id']),
    ('document', 'ix_document_uploaded_id', ['uploaded_at', 'id']),
    ('document', 'ix_document_verified_id', ['verified_at', 'id']),
    ('stage_event', 'ix_stage_event_occurred_id', ['occurred_at', 'id']),
    ('stage_event', 'ix_stage_event_action_occurred_id', ['action', 'occurred_at', 'id']),
    ('register_entry', 'ix_register_entry_date_id', ['entry_date', 'id']),
    ('register_entry', 'ix_register_entry_issue_date_id', ['issue_date', 'id']),
    ('audit_log', 'ix_audit_log_actor_name_id', ['actor_name', 'id']),
    ('audit_log', 'ix_audit_log_action_id', ['action', 'id']),
)
# (table, index, column): GIN trigram indexes on PostgreSQL; on SQLite an index over no rows
# (WHERE 0), as app.models.base.trigram_index declares them.
TRIGRAM_INDEXES = (
    ('company', 'ix_company_name_trgm', 'name'),
    ('applicant', 'ix_applicant_full_name_trgm', 'full_name'),
    ('dossier', 'ix_dossier_receipt_number_trgm', 'receipt_number'),
    ('register_entry', 'ix_register_entry_permit_number_trgm', 'permit_number'),
)


def upgrade():
    for table, name, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
    for table, name, column in TRIGRAM_INDEXES:
        op.create_index(name, table, [column], unique=False, postgresql_using='gin',
                        postgresql_ops={column: 'gin_trgm_ops'}, sqlite_where=sa.text('0'))


def downgrade():
    for table, name, _ in (*TRIGRAM_INDEXES, *INDEXES):
        op.drop_index(name, table_name=table)
