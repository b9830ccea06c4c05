"""lending: audiobooks, tracks, e-loans, listening positions

Revision ID: 0040_lending
Revises: 0030_institutions
Create Date: 2026-11-23 14:11:57.076581
"""
from alembic import op
import sqlalchemy as sa
import app.db


revision = '0040_lending'
down_revision = '0030_institutions'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('lending_audiobooks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('identifier', sa.String(length=200), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('author', sa.String(length=300), nullable=False),
    sa.Column('narrator', sa.String(length=300), nullable=False),
    sa.Column('language', sa.String(length=35), nullable=False),
    sa.Column('duration', sa.Float(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('storage_prefix', sa.String(length=200), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('source_name', sa.String(length=300), nullable=False),
    sa.Column('toc', sa.JSON(), nullable=False),
    sa.Column('available', sa.Boolean(), nullable=False),
    sa.Column('added_at', app.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', app.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lending_audiobooks')),
    sa.UniqueConstraint('identifier', name=op.f('uq_lending_audiobooks_identifier'))
    )

    with op.batch_alter_table('lending_audiobooks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lending_audiobooks_added_at'), ['added_at'], unique=False)

    op.create_table('lending_tracks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('audiobook_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('storage_key', sa.String(length=400), nullable=False),
    sa.Column('media_type', sa.String(length=40), nullable=False),
    sa.Column('duration', sa.Float(), nullable=False),
    sa.Column('bitrate', sa.Integer(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['audiobook_id'], ['lending_audiobooks.id'], name=op.f('fk_lending_tracks_audiobook_id_lending_audiobooks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lending_tracks')),
    sa.UniqueConstraint('audiobook_id', 'number', name=op.f('uq_lending_tracks_audiobook_id_number'))
    )

    op.create_table('lending_loans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patron_id', sa.Integer(), nullable=False),
    sa.Column('audiobook_id', sa.Integer(), nullable=False),
    sa.Column('active_key', sa.String(length=40), nullable=True),
    sa.Column('started_at', app.db.UTCDateTime(), nullable=False),
    sa.Column('until', app.db.UTCDateTime(), nullable=False),
    sa.Column('renewals', sa.Integer(), nullable=False),
    sa.Column('ended_at', app.db.UTCDateTime(), nullable=True),
    sa.Column('end_reason', sa.String(length=20), nullable=True),
    sa.Column('updated_at', app.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['audiobook_id'], ['lending_audiobooks.id'], name=op.f('fk_lending_loans_audiobook_id_lending_audiobooks'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['patron_id'], ['patrons.id'], name=op.f('fk_lending_loans_patron_id_patrons'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lending_loans')),
    sa.UniqueConstraint('active_key', name=op.f('uq_lending_loans_active_key'))
    )

    with op.batch_alter_table('lending_loans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lending_loans_audiobook_id'), ['audiobook_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_lending_loans_patron_id'), ['patron_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_lending_loans_until'), ['until'], unique=False)

    op.create_table('lending_positions',
    sa.Column('patron_id', sa.Integer(), nullable=False),
    sa.Column('audiobook_id', sa.Integer(), nullable=False),
    sa.Column('track', sa.Integer(), nullable=False),
    sa.Column('offset_seconds', sa.Float(), nullable=False),
    sa.Column('recorded_at', app.db.UTCDateTime(), nullable=False),
    sa.Column('device', sa.String(length=100), nullable=False),
    sa.Column('received_at', app.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['audiobook_id'], ['lending_audiobooks.id'], name=op.f('fk_lending_positions_audiobook_id_lending_audiobooks'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['patron_id'], ['patrons.id'], name=op.f('fk_lending_positions_patron_id_patrons'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('patron_id', 'audiobook_id', name=op.f('pk_lending_positions'))
    )


def downgrade() -> None:
    op.drop_table('lending_positions')

    with op.batch_alter_table('lending_loans', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lending_loans_until'))
        batch_op.drop_index(batch_op.f('ix_lending_loans_patron_id'))
        batch_op.drop_index(batch_op.f('ix_lending_loans_audiobook_id'))

    op.drop_table('lending_loans')

    op.drop_table('lending_tracks')

    with op.batch_alter_table('lending_audiobooks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lending_audiobooks_added_at'))

    op.drop_table('lending_audiobooks')

