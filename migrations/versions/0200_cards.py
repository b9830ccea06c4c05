"""cards: library cards: several cards per account, lost cards; the patron's opt-in loan history

Every existing patron's card number becomes an active card of the account (issued when the account was
created, at its home library); the patron row keeps it as the primary card.

Revision ID: 0200_cards
Revises: 0190_review_replies
Create Date: 2026-12-03 17:20:00
"""
import sqlalchemy as sa
from alembic import op

import app.db

revision = '0200_cards'
down_revision = '0190_review_replies'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'library_cards',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('number', sa.String(length=20), nullable=False),
        sa.Column('patron_id', sa.Integer(), nullable=False),
        sa.Column('library_id', sa.Integer(), nullable=True),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('issued_at', app.db.UTCDateTime(), nullable=False),
        sa.Column('lost_at', app.db.UTCDateTime(), nullable=True),
        sa.Column('valid_until', sa.Date(), nullable=True),
        sa.Column('replaced_by_id', sa.Integer(), nullable=True),
        sa.CheckConstraint("status IN ('active', 'lost', 'expired', 'replaced')",
                           name=op.f('ck_library_cards_status')),
        sa.ForeignKeyConstraint(['library_id'], ['libraries.id'], name=op.f('fk_library_cards_library_id_libraries')),
        sa.ForeignKeyConstraint(['patron_id'], ['patrons.id'], name=op.f('fk_library_cards_patron_id_patrons'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['replaced_by_id'], ['library_cards.id'],
                                name=op.f('fk_library_cards_replaced_by_id_library_cards')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_library_cards')),
        sa.UniqueConstraint('number', name=op.f('uq_library_cards_number')),
    )
    op.create_index(op.f('ix_library_cards_patron_id'), 'library_cards', ['patron_id'], unique=False)
    op.execute("INSERT INTO library_cards (number, patron_id, library_id, status, issued_at) "
               "SELECT card_number, id, home_library_id, 'active', created_at FROM patrons")
    op.create_table(
        'circ_loan_history_settings',
        sa.Column('patron_id', sa.Integer(), nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('changed_at', app.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['patron_id'], ['patrons.id'],
                                name=op.f('fk_circ_loan_history_settings_patron_id_patrons'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('patron_id', name=op.f('pk_circ_loan_history_settings')),
    )
    op.create_table(
        'circ_loan_history',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('patron_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('title', sa.String(length=300), nullable=False),
        sa.Column('record_key', sa.String(length=80), nullable=False),
        sa.Column('borrowed_at', app.db.UTCDateTime(), nullable=False),
        sa.Column('returned_at', app.db.UTCDateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('loan', 'audiobook')", name=op.f('ck_circ_loan_history_kind')),
        sa.ForeignKeyConstraint(['patron_id'], ['patrons.id'], name=op.f('fk_circ_loan_history_patron_id_patrons'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_circ_loan_history')),
    )
    op.create_index('ix_circ_loan_history_patron_returned', 'circ_loan_history', ['patron_id', 'returned_at'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_circ_loan_history_patron_returned', table_name='circ_loan_history')
    op.drop_table('circ_loan_history')
    op.drop_table('circ_loan_history_settings')
    op.drop_index(op.f('ix_library_cards_patron_id'), table_name='library_cards')
    op.drop_table('library_cards')
