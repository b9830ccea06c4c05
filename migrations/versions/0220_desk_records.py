"""desk_records: desk: patron record changes, refunds, blocks, premises bans — the hearing recorded before a
premises ban (card blocks are circ_bans rows of kind "block"; refunds are ledger rows)

Revision ID: 0220_desk_records
Revises: 0210_catalogue_lists
Create Date: 2026-12-03 17:20:00
"""
import sqlalchemy as sa
from alembic import op

import app.db

revision = '0220_desk_records'
down_revision = '0210_catalogue_lists'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'circ_premises_hearings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('patron_id', sa.Integer(), nullable=False),
        sa.Column('held_on', sa.Date(), nullable=False),
        sa.Column('heard_by', sa.String(length=200), nullable=False),
        sa.Column('summary', sa.Text(), nullable=False),
        sa.Column('recorded_at', app.db.UTCDateTime(), nullable=False),
        sa.Column('recorded_by', sa.String(length=300), nullable=False),
        sa.Column('ban_id', sa.Integer(), nullable=True),
        sa.Column('staff_user_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['ban_id'], ['circ_bans.id'],
                                name=op.f('fk_circ_premises_hearings_ban_id_circ_bans')),
        sa.ForeignKeyConstraint(['patron_id'], ['patrons.id'], ondelete='CASCADE',
                                name=op.f('fk_circ_premises_hearings_patron_id_patrons')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_circ_premises_hearings')),
    )
    op.create_index(op.f('ix_circ_premises_hearings_patron_id'), 'circ_premises_hearings', ['patron_id'],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_circ_premises_hearings_patron_id'), table_name='circ_premises_hearings')
    op.drop_table('circ_premises_hearings')
