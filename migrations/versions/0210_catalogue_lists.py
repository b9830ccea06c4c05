"""catalogue_lists: catalogue favourites lists, saved searches and alerts (Tampere's [003])

Revision ID: 0210_catalogue_lists
Revises: 0200_cards
Create Date: 2026-12-03 17:20:00
"""
import sqlalchemy as sa
from alembic import op

import app.db

revision = '0210_catalogue_lists'
down_revision = '0200_cards'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'catalogue_fav_lists',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('patron_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('description', sa.String(length=1000), nullable=False),
        sa.Column('is_public', sa.Boolean(), nullable=False),
        sa.Column('share_token', sa.String(length=64), nullable=True),
        sa.Column('created_at', app.db.UTCDateTime(), nullable=False),
        sa.Column('updated_at', app.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['patron_id'], ['patrons.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('patron_id', 'name', name='uq_catalogue_fav_lists_patron_name'),
        sa.UniqueConstraint('share_token'),
    )
    op.create_index('ix_catalogue_fav_lists_patron_id', 'catalogue_fav_lists', ['patron_id'])
    op.create_table(
        'catalogue_fav_entries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('list_id', sa.Integer(), nullable=False),
        sa.Column('record_id', sa.Integer(), nullable=False),
        sa.Column('note', sa.String(length=2000), nullable=False),
        sa.Column('keywords', sa.JSON(), nullable=False),
        sa.Column('added_at', app.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['list_id'], ['catalogue_fav_lists.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['record_id'], ['catalogue_records.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('list_id', 'record_id', name='uq_catalogue_fav_entries_list_record'),
    )
    op.create_index('ix_catalogue_fav_entries_list_id', 'catalogue_fav_entries', ['list_id'])
    op.create_index('ix_catalogue_fav_entries_record_id', 'catalogue_fav_entries', ['record_id'])
    op.create_table(
        'catalogue_saved_searches',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('patron_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('query', sa.JSON(), nullable=False),
        sa.Column('frequency', sa.String(length=10), nullable=False),
        sa.Column('seen_record_id', sa.Integer(), nullable=False),
        sa.Column('created_at', app.db.UTCDateTime(), nullable=False),
        sa.Column('updated_at', app.db.UTCDateTime(), nullable=False),
        sa.Column('last_alert_at', app.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['patron_id'], ['patrons.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_catalogue_saved_searches_patron_id', 'catalogue_saved_searches', ['patron_id'])
    op.create_index('ix_catalogue_saved_searches_frequency', 'catalogue_saved_searches', ['frequency'])
    op.create_table(
        'catalogue_search_alerts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('saved_search_id', sa.Integer(), nullable=False),
        sa.Column('period', sa.String(length=20), nullable=False),
        sa.Column('outbox_key', sa.String(length=200), nullable=False),
        sa.Column('record_ids', sa.JSON(), nullable=False),
        sa.Column('created_at', app.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['saved_search_id'], ['catalogue_saved_searches.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('saved_search_id', 'period', name='uq_catalogue_search_alerts_period'),
    )
    op.create_index('ix_catalogue_search_alerts_saved_search_id', 'catalogue_search_alerts', ['saved_search_id'])


def downgrade() -> None:
    op.drop_index('ix_catalogue_search_alerts_saved_search_id', table_name='catalogue_search_alerts')
    op.drop_table('catalogue_search_alerts')
    op.drop_index('ix_catalogue_saved_searches_frequency', table_name='catalogue_saved_searches')
    op.drop_index('ix_catalogue_saved_searches_patron_id', table_name='catalogue_saved_searches')
    op.drop_table('catalogue_saved_searches')
    op.drop_index('ix_catalogue_fav_entries_record_id', table_name='catalogue_fav_entries')
    op.drop_index('ix_catalogue_fav_entries_list_id', table_name='catalogue_fav_entries')
    op.drop_table('catalogue_fav_entries')
    op.drop_index('ix_catalogue_fav_lists_patron_id', table_name='catalogue_fav_lists')
    op.drop_table('catalogue_fav_lists')
