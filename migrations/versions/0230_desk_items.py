"""desk_items: desk: copies, item statuses, branch calendars, letters, reports (the copies' shelf locations and the letters queue's printed batches)

Revision ID: 0230_desk_items
Revises: 0220_desk_records
Create Date: 2026-12-03 17:20:00
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import app.db  # noqa: F401

revision = '0230_desk_items'
down_revision = '0220_desk_records'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'circ_item_shelves',
        sa.Column('item_id', sa.Integer(), nullable=False),
        sa.Column('shelf_location', sa.String(length=100), nullable=False),
        sa.Column('updated_at', app.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['item_id'], ['circ_items.id'],
                                name=op.f('fk_circ_item_shelves_item_id_circ_items'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('item_id', name=op.f('pk_circ_item_shelves')),
    )
    op.create_table(
        'circ_letter_batches',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('letter_count', sa.Integer(), nullable=False),
        sa.Column('printed_at', app.db.UTCDateTime(), nullable=False),
        sa.Column('printed_by', sa.String(length=300), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_circ_letter_batches')),
    )
    op.create_index(op.f('ix_circ_letter_batches_day'), 'circ_letter_batches', ['day'], unique=False)
    op.create_table(
        'circ_letter_batch_letters',
        sa.Column('message_id', sa.Integer(), nullable=False),
        sa.Column('batch_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['batch_id'], ['circ_letter_batches.id'],
                                name=op.f('fk_circ_letter_batch_letters_batch_id_circ_letter_batches'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['message_id'], ['outbox_messages.id'],
                                name=op.f('fk_circ_letter_batch_letters_message_id_outbox_messages'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('message_id', name=op.f('pk_circ_letter_batch_letters')),
    )
    op.create_index(op.f('ix_circ_letter_batch_letters_batch_id'), 'circ_letter_batch_letters', ['batch_id'],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_circ_letter_batch_letters_batch_id'), table_name='circ_letter_batch_letters')
    op.drop_table('circ_letter_batch_letters')
    op.drop_index(op.f('ix_circ_letter_batches_day'), table_name='circ_letter_batches')
    op.drop_table('circ_letter_batches')
    op.drop_table('circ_item_shelves')
