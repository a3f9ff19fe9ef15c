"""SQLite never hands a deleted row's id to a new row (AUTOINCREMENT), so the audit trail never
tells a deleted record's past as a new one's

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 12:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

# Tables whose rows can be deleted (an undone import, a record registered by mistake, an unused
# account or role) while their audit trail stays. PostgreSQL's sequences never reuse ids.
TABLES = ('company', 'applicant', 'dossier', 'register_entry', 'local_holiday', 'ab_user', 'ab_role')


def _rebuild(autoincrement: bool):
    if op.get_bind().dialect.name != 'sqlite':
        return
    from app.models.guards import install_guards

    for table in TABLES:
        with op.batch_alter_table(table, recreate='always', table_kwargs={'sqlite_autoincrement': autoincrement}):
            pass
    install_guards(op.get_bind())  # rebuilding a table drops its triggers


def upgrade():
    _rebuild(True)


def downgrade():
    _rebuild(False)
