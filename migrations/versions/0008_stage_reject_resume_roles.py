"""who may reject and who takes returned files back are SOP data on each stage

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

# What the engine's constants said until now; the next load of an SOP file replaces these
# with the file's own words (its hash changes with the new keys).
_REJECTING_ROLES = ('Kasi Perizinan', 'Kabid Perizinan', 'Kepala Dinas')


def upgrade():
    with op.batch_alter_table('stage', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reject_role', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('resume_role', sa.String(length=64), nullable=False,
                                      server_default='Front Office'))
    with op.batch_alter_table('stage', schema=None) as batch_op:
        batch_op.alter_column('resume_role', server_default=None)
    stage = sa.table('stage', sa.column('id'), sa.column('permit_type_id'), sa.column('seq'),
                     sa.column('role_name'), sa.column('issues_permit'), sa.column('reject_role'))
    issuing = (sa.select(sa.func.min(sa.literal_column('numbering.seq')))
               .select_from(stage.alias('numbering'))
               .where(sa.literal_column('numbering.permit_type_id') == stage.c.permit_type_id,
                      sa.literal_column('numbering.issues_permit') == sa.true())
               .scalar_subquery())
    op.execute(
        stage.update()
        .where(stage.c.role_name.in_(_REJECTING_ROLES), sa.or_(issuing.is_(None), stage.c.seq < issuing))
        .values(reject_role=stage.c.role_name)
    )


def downgrade():
    with op.batch_alter_table('stage', schema=None) as batch_op:
        batch_op.drop_column('resume_role')
        batch_op.drop_column('reject_role')
