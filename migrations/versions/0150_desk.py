"""desk: the staff member's desk branch, and notes for the desk on a patron

Revision ID: 0150_desk
Revises: 0140_my_account
Create Date: 2026-12-03 14:00:00
"""
import sqlalchemy as sa
from alembic import op

import app.db

revision = '0150_desk'
down_revision = '0140_my_account'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'circ_desk_staff_branches',
        sa.Column('staff_user_id', sa.Integer(), nullable=False),
        sa.Column('branch_id', sa.Integer(), nullable=False),
        sa.Column('updated_at', app.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['branch_id'], ['circ_branches.id'],
                                name=op.f('fk_circ_desk_staff_branches_branch_id_circ_branches')),
        sa.ForeignKeyConstraint(['staff_user_id'], ['staff_users.id'], ondelete='CASCADE',
                                name=op.f('fk_circ_desk_staff_branches_staff_user_id_staff_users')),
        sa.PrimaryKeyConstraint('staff_user_id', name=op.f('pk_circ_desk_staff_branches')),
    )
    op.create_table(
        'circ_desk_notes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('patron_id', sa.Integer(), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('created_at', app.db.UTCDateTime(), nullable=False),
        sa.Column('created_by', sa.String(length=300), nullable=False),
        sa.Column('removed_at', app.db.UTCDateTime(), nullable=True),
        sa.Column('staff_user_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['patron_id'], ['patrons.id'], ondelete='CASCADE',
                                name=op.f('fk_circ_desk_notes_patron_id_patrons')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_circ_desk_notes')),
    )
    op.create_index(op.f('ix_circ_desk_notes_patron_id'), 'circ_desk_notes', ['patron_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_circ_desk_notes_patron_id'), table_name='circ_desk_notes')
    op.drop_table('circ_desk_notes')
    op.drop_table('circ_desk_staff_branches')
