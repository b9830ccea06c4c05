"""account_requests: My account: copies in closed stacks and the patrons' stack retrieval requests

Revision ID: 0240_account_requests
Revises: 0230_desk_items
Create Date: 2026-12-03 17:20:00
"""
import sqlalchemy as sa
from alembic import op

import app.db

revision = '0240_account_requests'
down_revision = '0230_desk_items'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'circ_closed_stack_copies',
        sa.Column('item_id', sa.Integer(), nullable=False),
        sa.Column('location', sa.String(length=200), nullable=False),
        sa.Column('placed_at', app.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['item_id'], ['circ_items.id'], ondelete='CASCADE',
                                name=op.f('fk_circ_closed_stack_copies_item_id_circ_items')),
        sa.PrimaryKeyConstraint('item_id', name=op.f('pk_circ_closed_stack_copies')),
    )
    op.create_table(
        'circ_stack_requests',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('patron_id', sa.Integer(), nullable=False),
        sa.Column('library_id', sa.Integer(), nullable=False),
        sa.Column('item_id', sa.Integer(), nullable=False),
        sa.Column('record_key', sa.String(length=80), nullable=False),
        sa.Column('state', sa.String(length=12), nullable=False),
        sa.Column('requested_at', app.db.UTCDateTime(), nullable=False),
        sa.Column('processing_at', app.db.UTCDateTime(), nullable=True),
        sa.Column('ready_at', app.db.UTCDateTime(), nullable=True),
        sa.Column('pickup_place', sa.String(length=200), nullable=False),
        sa.Column('last_pickup_day', sa.Date(), nullable=True),
        sa.Column('cancelled_at', app.db.UTCDateTime(), nullable=True),
        sa.Column('cancelled_by', sa.String(length=10), nullable=True),
        sa.ForeignKeyConstraint(['item_id'], ['circ_items.id'],
                                name=op.f('fk_circ_stack_requests_item_id_circ_items')),
        sa.ForeignKeyConstraint(['library_id'], ['circ_libraries.id'],
                                name=op.f('fk_circ_stack_requests_library_id_circ_libraries')),
        sa.ForeignKeyConstraint(['patron_id'], ['patrons.id'], ondelete='CASCADE',
                                name=op.f('fk_circ_stack_requests_patron_id_patrons')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_circ_stack_requests')),
    )
    op.create_index('ix_circ_stack_requests_library_state', 'circ_stack_requests', ['library_id', 'state'],
                    unique=False)
    op.create_index(op.f('ix_circ_stack_requests_patron_id'), 'circ_stack_requests', ['patron_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_circ_stack_requests_patron_id'), table_name='circ_stack_requests')
    op.drop_index('ix_circ_stack_requests_library_state', table_name='circ_stack_requests')
    op.drop_table('circ_stack_requests')
    op.drop_table('circ_closed_stack_copies')
