"""an officer's NIP and jabatan, printed under their signature on the papers they sign

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 13:35:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('ab_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('nip', sa.String(length=18), nullable=True))
        batch_op.add_column(sa.Column('position', sa.String(length=100), nullable=True))


def downgrade():
    with op.batch_alter_table('ab_user', schema=None) as batch_op:
        batch_op.drop_column('position')
        batch_op.drop_column('nip')
