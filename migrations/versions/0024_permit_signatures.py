"""electronic signatures (TTE): each signer's certificate, kept encrypted, and each permit's signed PDF

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06 20:30:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('signing_certificate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('sealed_p12', sa.LargeBinary(), nullable=False),
    sa.Column('subject', sa.String(length=500), nullable=False),
    sa.Column('issuer', sa.String(length=500), nullable=False),
    sa.Column('serial', sa.String(length=100), nullable=False),
    sa.Column('not_before', sa.DateTime(timezone=True), nullable=False),
    sa.Column('not_after', sa.DateTime(timezone=True), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['ab_user.id'],
                            name=op.f('fk_signing_certificate_uploaded_by_id_ab_user')),
    sa.ForeignKeyConstraint(['user_id'], ['ab_user.id'], name=op.f('fk_signing_certificate_user_id_ab_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signing_certificate')),
    sa.UniqueConstraint('user_id', name=op.f('uq_signing_certificate_user_id'))
    )
    op.create_table('permit_signature',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('permit_id', sa.Integer(), nullable=False),
    sa.Column('storage_key', sa.String(length=100), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('signed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('signed_by_id', sa.Integer(), nullable=True),
    sa.Column('signer_name', sa.String(length=200), nullable=False),
    sa.Column('certificate_subject', sa.String(length=500), nullable=False),
    sa.Column('certificate_serial', sa.String(length=100), nullable=False),
    sa.Column('certificate_fingerprint', sa.String(length=64), nullable=False),
    sa.Column('level', sa.String(length=10), nullable=False),
    sa.Column('chain_pem', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['permit_id'], ['permit.id'], name=op.f('fk_permit_signature_permit_id_permit')),
    sa.ForeignKeyConstraint(['signed_by_id'], ['ab_user.id'], name=op.f('fk_permit_signature_signed_by_id_ab_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_permit_signature')),
    sa.UniqueConstraint('permit_id', name=op.f('uq_permit_signature_permit_id'))
    )
    with op.batch_alter_table('permit_signature', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_permit_signature_sha256'), ['sha256'], unique=False)


def downgrade():
    with op.batch_alter_table('permit_signature', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_permit_signature_sha256'))
    op.drop_table('permit_signature')
    op.drop_table('signing_certificate')
