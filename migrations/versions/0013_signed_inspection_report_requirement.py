"""the signed Berita Acara Pemeriksaan Lapangan is a mandatory requirement of the field inspection

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 13:30:00.000000

"""
import datetime

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

# As seed/sop/izin_pool_kendaraan.yaml words it; the next load of an SOP file keeps this row
# (matched by code) and writes the file's own name and order over it.
CODE = 'BAP_PEMERIKSAAN_LAPANGAN'
NAME = 'Berita Acara Pemeriksaan Lapangan (ditandatangani Tim Teknis)'
STAGE_CODE = 'PEMERIKSAAN_LAPANGAN'

stage = sa.table('stage', sa.column('id'), sa.column('permit_type_id'), sa.column('code'))
requirement = sa.table(
    'requirement_type', sa.column('id'), sa.column('permit_type_id'), sa.column('seq'), sa.column('code'),
    sa.column('name'), sa.column('is_mandatory'), sa.column('due_stage_id'), sa.column('required_since'),
)
document = sa.table('document', sa.column('requirement_type_id'))


def upgrade():
    # A requirement added to an SOP in use binds only the dossiers still before its due stage
    # (app.sop.guards): those already past the inspection are not stopped for a paper nobody
    # asked of them.
    bind = op.get_bind()
    if 'required_since' not in {c['name'] for c in sa.inspect(bind).get_columns('requirement_type')}:
        op.add_column('requirement_type', sa.Column('required_since', sa.DateTime(timezone=True), nullable=True))
    now = datetime.datetime.now(datetime.timezone.utc)
    # Every permit type whose SOP has the field inspection, and that lacks the requirement.
    inspections = bind.execute(
        sa.select(stage.c.permit_type_id, stage.c.id).where(stage.c.code == STAGE_CODE).order_by(stage.c.permit_type_id)
    ).all()
    for permit_type_id, stage_id in inspections:
        present = bind.scalar(sa.select(sa.exists().where(
            requirement.c.permit_type_id == permit_type_id, requirement.c.code == CODE)))
        if present:
            continue
        last = bind.scalar(
            sa.select(sa.func.max(requirement.c.seq)).where(requirement.c.permit_type_id == permit_type_id))
        bind.execute(requirement.insert().values(
            permit_type_id=permit_type_id, seq=(last or 0) + 1, code=CODE, name=NAME, is_mandatory=True,
            due_stage_id=stage_id, required_since=now,
        ))


def downgrade():
    # A requirement a document was filed under stays: the document keeps its slot.
    used = sa.select(document.c.requirement_type_id)
    op.execute(requirement.delete().where(requirement.c.code == CODE, requirement.c.id.not_in(used)))
    with op.batch_alter_table('requirement_type') as batch:
        batch.drop_column('required_since')
