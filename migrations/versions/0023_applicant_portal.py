"""the applicant's portal: an applicant's own account, registrations with NIK and phone, online
dossiers, papers sent back from the portal, and the SOP steps the applicant's events do

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 20:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('applicant', schema=None) as batch_op:
        batch_op.add_column(sa.Column('account_id', sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_applicant_account_id'), ['account_id'])
        batch_op.create_foreign_key(batch_op.f('fk_applicant_account_id_ab_user'), 'ab_user', ['account_id'], ['id'])

    # SQLite copies a table to add a constraint, and the copy loses the expression index of 0017.
    if op.get_bind().dialect.name == 'sqlite':
        op.execute("CREATE INDEX IF NOT EXISTS ix_applicant_full_name_prefix ON applicant (lower(full_name)) WHERE 0")

    # Plain ADD COLUMNs: no table is copied.
    op.add_column('ab_register_user', sa.Column('nik', sa.String(length=16), nullable=True))
    op.add_column('ab_register_user', sa.Column('phone', sa.String(length=30), nullable=True))
    op.add_column('dossier', sa.Column('submitted_online', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('dossier', sa.Column('resubmitted_at', sa.DateTime(timezone=True), nullable=True))
    # Skipped when present, as 0022 does for invites_survey.
    if 'online_event' not in {c['name'] for c in sa.inspect(op.get_bind()).get_columns('stage')}:
        op.add_column('stage', sa.Column('online_event', sa.String(length=20), nullable=True))


def downgrade():
    with op.batch_alter_table('stage', schema=None) as batch_op:
        batch_op.drop_column('online_event')

    with op.batch_alter_table('dossier', schema=None) as batch_op:
        batch_op.drop_column('resubmitted_at')
        batch_op.drop_column('submitted_online')

    with op.batch_alter_table('ab_register_user', schema=None) as batch_op:
        batch_op.drop_column('phone')
        batch_op.drop_column('nik')

    with op.batch_alter_table('applicant', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_applicant_account_id_ab_user'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_applicant_account_id'), type_='unique')
        batch_op.drop_column('account_id')
