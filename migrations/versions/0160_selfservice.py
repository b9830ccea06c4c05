"""selfservice: SIP2 terminals, branches' self-service hours, patrons' self-service standing

Revision ID: 0160_selfservice
Revises: 0150_desk
Create Date: 2026-12-03 14:00:00
"""
import sqlalchemy as sa
from alembic import op

import app.db

revision = '0160_selfservice'
down_revision = '0150_desk'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'sip_terminals',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('password_hash', sa.String(length=200), nullable=False),
        sa.Column('branch_id', sa.Integer(), nullable=False),
        sa.Column('language', sa.String(length=5), nullable=False),
        sa.Column('charset', sa.String(length=10), nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('created_at', app.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['branch_id'], ['circ_branches.id'],
                                name=op.f('fk_sip_terminals_branch_id_circ_branches')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sip_terminals')),
        sa.UniqueConstraint('name', name=op.f('uq_sip_terminals_name')),
    )
    op.create_index(op.f('ix_sip_terminals_branch_id'), 'sip_terminals', ['branch_id'], unique=False)
    op.create_table(
        'selfservice_branches',
        sa.Column('branch_id', sa.Integer(), nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('opens', sa.String(length=5), nullable=False),
        sa.Column('closes', sa.String(length=5), nullable=False),
        sa.Column('requires_activation', sa.Boolean(), nullable=False),
        sa.Column('minimum_age', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['branch_id'], ['circ_branches.id'],
                                name=op.f('fk_selfservice_branches_branch_id_circ_branches'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('branch_id', name=op.f('pk_selfservice_branches')),
    )
    op.create_table(
        'selfservice_patrons',
        sa.Column('patron_id', sa.Integer(), nullable=False),
        sa.Column('terms_accepted_at', app.db.UTCDateTime(), nullable=True),
        sa.Column('guardian_consent_at', app.db.UTCDateTime(), nullable=True),
        sa.Column('activated_at', app.db.UTCDateTime(), nullable=True),
        sa.Column('card_blocked_at', app.db.UTCDateTime(), nullable=True),
        sa.Column('block_reason', sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(['patron_id'], ['patrons.id'],
                                name=op.f('fk_selfservice_patrons_patron_id_patrons'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('patron_id', name=op.f('pk_selfservice_patrons')),
    )


def downgrade() -> None:
    op.drop_table('selfservice_patrons')
    op.drop_table('selfservice_branches')
    op.drop_index(op.f('ix_sip_terminals_branch_id'), table_name='sip_terminals')
    op.drop_table('sip_terminals')
