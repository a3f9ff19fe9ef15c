"""the record can be trusted: permits keep what they printed, corrections point at what they
replace, an append-only audit trail, and database guards

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 10:00:00.000000

"""
import logging

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

log = logging.getLogger('alembic.env')


def upgrade():
    with op.batch_alter_table('dossier', schema=None) as batch_op:
        batch_op.add_column(sa.Column('corrects_permit_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_dossier_corrects_permit_id'), ['corrects_permit_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_dossier_corrects_permit_id_permit'), 'permit',
                                    ['corrects_permit_id'], ['id'])
    with op.batch_alter_table('permit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('snapshot', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('supersedes_id', sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_permit_supersedes_id'), ['supersedes_id'])
        batch_op.create_foreign_key(batch_op.f('fk_permit_supersedes_id_permit'), 'permit',
                                    ['supersedes_id'], ['id'])
    _snapshot_issued_permits()
    with op.batch_alter_table('permit', schema=None) as batch_op:
        batch_op.alter_column('snapshot', existing_type=sa.JSON(), nullable=False)

    op.create_table('audit_log',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=200), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=True),
    sa.Column('origin', sa.String(length=20), nullable=False),
    sa.Column('entity', sa.String(length=40), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=10), nullable=False),
    sa.Column('dossier_id', sa.Integer(), nullable=True),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('import_batch_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['ab_user.id'], name=op.f('fk_audit_log_actor_id_ab_user')),
    sa.ForeignKeyConstraint(['import_batch_id'], ['import_batch.id'],
                            name=op.f('fk_audit_log_import_batch_id_import_batch')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_audit_log_dossier', ['dossier_id', 'id'], unique=False,
                              sqlite_where=sa.text('dossier_id IS NOT NULL'),
                              postgresql_where=sa.text('dossier_id IS NOT NULL'))
        batch_op.create_index(batch_op.f('ix_audit_log_occurred_at'), ['occurred_at'], unique=False)
        batch_op.create_index('ix_audit_log_record', ['entity', 'record_id', 'id'], unique=False)

    from app.models.guards import install_guards

    install_guards(op.get_bind())


def _snapshot_issued_permits():
    """Permits issued before this revision get what they print now, from the records and the
    office settings as they are at the upgrade: the closest knowledge there is."""
    from flask import current_app
    from sqlalchemy.orm import Session, selectinload

    from app.models import Dossier, Permit, PermitType
    from app.printing import Office, permit_paper, permit_snapshot

    config = current_app.config
    if not config.get('PUBLIC_BASE_URL'):
        log.warning('LOKET_PUBLIC_URL is not set: the verification address kept with earlier permits '
                    'starts with http://localhost')
    office = Office.from_config(config, config.get('PUBLIC_BASE_URL') or 'http://localhost')
    connection = op.get_bind()
    permit_table = sa.table('permit', sa.column('id'), sa.column('snapshot', sa.JSON()))
    with Session(bind=connection) as session:
        types = {t.id: t for t in session.scalars(sa.select(PermitType))}
        permits = session.scalars(
            sa.select(Permit).where(Permit.snapshot.is_(None))
            .options(selectinload(Permit.dossier).selectinload(Dossier.company),
                     selectinload(Permit.dossier).selectinload(Dossier.applicant))
        ).all()
        for permit in permits:
            paper = permit_paper(permit, permit.dossier, types[permit.permit_type_id], office)
            connection.execute(permit_table.update().where(permit_table.c.id == permit.id)
                               .values(snapshot=permit_snapshot(paper, office.letterhead, office.paper_size)))
        if permits:
            log.info('kept what %s issued permits print', len(permits))


def downgrade():
    from app.models.guards import remove_guards

    remove_guards(op.get_bind())
    op.drop_table('audit_log')
    with op.batch_alter_table('permit', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_permit_supersedes_id_permit'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_permit_supersedes_id'), type_='unique')
        batch_op.drop_column('supersedes_id')
        batch_op.drop_column('snapshot')
    with op.batch_alter_table('dossier', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_dossier_corrects_permit_id_permit'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_dossier_corrects_permit_id'))
        batch_op.drop_column('corrects_permit_id')
