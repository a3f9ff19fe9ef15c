"""Survei Kepuasan Masyarakat: the answers (one per dossier), the SOP flag of the stage whose end
invites the applicant, and the index the invitations use to find recent handovers

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 17:47:33.592311

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('survey_response',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dossier_id', sa.Integer(), nullable=False),
    sa.Column('permit_type_id', sa.Integer(), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('u1', sa.SmallInteger(), nullable=False),
    sa.Column('u2', sa.SmallInteger(), nullable=False),
    sa.Column('u3', sa.SmallInteger(), nullable=False),
    sa.Column('u4', sa.SmallInteger(), nullable=False),
    sa.Column('u5', sa.SmallInteger(), nullable=False),
    sa.Column('u6', sa.SmallInteger(), nullable=False),
    sa.Column('u7', sa.SmallInteger(), nullable=False),
    sa.Column('u8', sa.SmallInteger(), nullable=False),
    sa.Column('u9', sa.SmallInteger(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.CheckConstraint('u1 BETWEEN 1 AND 4', name=op.f('ck_survey_response_u1_range')),
    sa.CheckConstraint('u2 BETWEEN 1 AND 4', name=op.f('ck_survey_response_u2_range')),
    sa.CheckConstraint('u3 BETWEEN 1 AND 4', name=op.f('ck_survey_response_u3_range')),
    sa.CheckConstraint('u4 BETWEEN 1 AND 4', name=op.f('ck_survey_response_u4_range')),
    sa.CheckConstraint('u5 BETWEEN 1 AND 4', name=op.f('ck_survey_response_u5_range')),
    sa.CheckConstraint('u6 BETWEEN 1 AND 4', name=op.f('ck_survey_response_u6_range')),
    sa.CheckConstraint('u7 BETWEEN 1 AND 4', name=op.f('ck_survey_response_u7_range')),
    sa.CheckConstraint('u8 BETWEEN 1 AND 4', name=op.f('ck_survey_response_u8_range')),
    sa.CheckConstraint('u9 BETWEEN 1 AND 4', name=op.f('ck_survey_response_u9_range')),
    sa.ForeignKeyConstraint(['dossier_id'], ['dossier.id'], name=op.f('fk_survey_response_dossier_id_dossier')),
    sa.ForeignKeyConstraint(['permit_type_id'], ['permit_type.id'],
                            name=op.f('fk_survey_response_permit_type_id_permit_type')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_response')),
    sa.UniqueConstraint('dossier_id', name=op.f('uq_survey_response_dossier_id'))
    )
    with op.batch_alter_table('survey_response', schema=None) as batch_op:
        batch_op.create_index('ix_survey_response_answered', ['answered_at'], unique=False)
        batch_op.create_index('ix_survey_response_type_answered', ['permit_type_id', 'answered_at'], unique=False)

    # Skipped when present: a test database made at an older revision may have it added by hand
    # so that today's models can load an SOP into it (as 0013 does for required_since).
    if 'invites_survey' not in {c['name'] for c in sa.inspect(op.get_bind()).get_columns('stage')}:
        with op.batch_alter_table('stage', schema=None) as batch_op:
            batch_op.add_column(sa.Column('invites_survey', sa.Boolean(), server_default=sa.false(), nullable=False))

    with op.batch_alter_table('stage_event', schema=None) as batch_op:
        batch_op.create_index('ix_stage_event_from_stage_occurred', ['from_stage_id', 'occurred_at'], unique=False)


def downgrade():
    with op.batch_alter_table('stage_event', schema=None) as batch_op:
        batch_op.drop_index('ix_stage_event_from_stage_occurred')

    with op.batch_alter_table('stage', schema=None) as batch_op:
        batch_op.drop_column('invites_survey')

    with op.batch_alter_table('survey_response', schema=None) as batch_op:
        batch_op.drop_index('ix_survey_response_type_answered')
        batch_op.drop_index('ix_survey_response_answered')

    op.drop_table('survey_response')
