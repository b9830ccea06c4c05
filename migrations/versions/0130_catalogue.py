"""catalogue: bibliographic records (MARC 21 and lending's audiobooks), their identifiers and shelf places;
full-text search as SQLite FTS5 (catalogue_fts, kept in step by triggers) or PostgreSQL GIN indexes over the
simple, finnish and swedish tsvectors of search_text

Revision ID: 0130_catalogue
Revises: 0120_status_management
Create Date: 2026-12-03 14:00:00
"""
import sqlalchemy as sa
from alembic import op

import app.db

revision = '0130_catalogue'
down_revision = '0120_status_management'
branch_labels = None
depends_on = None

TS_CONFIGS = ('simple', 'finnish', 'swedish')


def upgrade() -> None:
    op.create_table(
        'catalogue_records',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('control_number', sa.String(length=200), nullable=False),
        sa.Column('record_key', sa.String(length=80), nullable=False),
        sa.Column('source', sa.String(length=20), nullable=False),
        sa.Column('lending_book_id', sa.Integer(), nullable=True),
        sa.Column('title', sa.String(length=500), nullable=False),
        sa.Column('subtitle', sa.String(length=500), nullable=False),
        sa.Column('responsibility', sa.String(length=500), nullable=False),
        sa.Column('authors', sa.JSON(), nullable=False),
        sa.Column('publisher', sa.String(length=300), nullable=False),
        sa.Column('year', sa.Integer(), nullable=True),
        sa.Column('edition', sa.String(length=200), nullable=False),
        sa.Column('language', sa.String(length=3), nullable=False),
        sa.Column('isbns', sa.JSON(), nullable=False),
        sa.Column('issns', sa.JSON(), nullable=False),
        sa.Column('eans', sa.JSON(), nullable=False),
        sa.Column('subjects', sa.JSON(), nullable=False),
        sa.Column('genres', sa.JSON(), nullable=False),
        sa.Column('series', sa.JSON(), nullable=False),
        sa.Column('material_type', sa.String(length=20), nullable=False),
        sa.Column('age_rating', sa.Integer(), nullable=True),
        sa.Column('physical_description', sa.String(length=500), nullable=False),
        sa.Column('notes', sa.JSON(), nullable=False),
        sa.Column('cover_isbn', sa.String(length=13), nullable=False),
        sa.Column('search_text', sa.Text(), nullable=False),
        sa.Column('marcxml', sa.Text(), nullable=False),
        sa.Column('content_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', app.db.UTCDateTime(), nullable=False),
        sa.Column('updated_at', app.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['lending_book_id'], ['lending_audiobooks.id'],
                                name=op.f('fk_catalogue_records_lending_book_id_lending_audiobooks'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_catalogue_records')),
        sa.UniqueConstraint('control_number', name=op.f('uq_catalogue_records_control_number')),
        sa.UniqueConstraint('lending_book_id', name=op.f('uq_catalogue_records_lending_book_id')),
    )
    with op.batch_alter_table('catalogue_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_catalogue_records_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_catalogue_records_language'), ['language'], unique=False)
        batch_op.create_index(batch_op.f('ix_catalogue_records_material_type'), ['material_type'], unique=False)
        batch_op.create_index('ix_catalogue_records_material_type_year', ['material_type', 'year'], unique=False)
        batch_op.create_index(batch_op.f('ix_catalogue_records_record_key'), ['record_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_catalogue_records_year'), ['year'], unique=False)
    op.create_table(
        'catalogue_identifiers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('record_id', sa.Integer(), nullable=False),
        sa.Column('value', sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(['record_id'], ['catalogue_records.id'],
                                name=op.f('fk_catalogue_identifiers_record_id_catalogue_records'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_catalogue_identifiers')),
    )
    with op.batch_alter_table('catalogue_identifiers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_catalogue_identifiers_record_id'), ['record_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_catalogue_identifiers_value'), ['value'], unique=False)
    op.create_table(
        'catalogue_holdings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('barcode', sa.String(length=40), nullable=False),
        sa.Column('record_id', sa.Integer(), nullable=False),
        sa.Column('shelf_location', sa.String(length=100), nullable=False),
        sa.Column('call_number', sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(['record_id'], ['catalogue_records.id'],
                                name=op.f('fk_catalogue_holdings_record_id_catalogue_records'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_catalogue_holdings')),
        sa.UniqueConstraint('barcode', name=op.f('uq_catalogue_holdings_barcode')),
    )
    with op.batch_alter_table('catalogue_holdings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_catalogue_holdings_record_id'), ['record_id'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        for config in TS_CONFIGS:
            op.execute(f"CREATE INDEX ix_catalogue_records_fts_{config} ON catalogue_records "
                       f"USING gin (to_tsvector('{config}'::regconfig, search_text))")
    else:
        op.execute("CREATE VIRTUAL TABLE catalogue_fts USING fts5(search_text, content='catalogue_records', "
                   "content_rowid='id', tokenize=\"unicode61 remove_diacritics 0\", prefix='2 3')")
        op.execute("CREATE TRIGGER catalogue_fts_insert AFTER INSERT ON catalogue_records BEGIN "
                   "INSERT INTO catalogue_fts(rowid, search_text) VALUES (new.id, new.search_text); END")
        op.execute("CREATE TRIGGER catalogue_fts_delete AFTER DELETE ON catalogue_records BEGIN "
                   "INSERT INTO catalogue_fts(catalogue_fts, rowid, search_text) "
                   "VALUES ('delete', old.id, old.search_text); END")
        op.execute("CREATE TRIGGER catalogue_fts_update AFTER UPDATE OF search_text ON catalogue_records BEGIN "
                   "INSERT INTO catalogue_fts(catalogue_fts, rowid, search_text) "
                   "VALUES ('delete', old.id, old.search_text); "
                   "INSERT INTO catalogue_fts(rowid, search_text) VALUES (new.id, new.search_text); END")


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        for config in TS_CONFIGS:
            op.execute(f"DROP INDEX IF EXISTS ix_catalogue_records_fts_{config}")
    else:
        for trigger in ('insert', 'delete', 'update'):
            op.execute(f"DROP TRIGGER IF EXISTS catalogue_fts_{trigger}")
        op.execute("DROP TABLE IF EXISTS catalogue_fts")
    op.drop_table('catalogue_holdings')
    op.drop_table('catalogue_identifiers')
    op.drop_table('catalogue_records')
