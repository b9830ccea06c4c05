"""dodp: DAISY Online Delivery Protocol player sessions, read announcements, accepted terms of service

Revision ID: 0170_dodp
Revises: 0160_selfservice
Create Date: 2026-12-03 14:00:00
"""
import sqlalchemy as sa
from alembic import op

import app.db

revision = '0170_dodp'
down_revision = '0160_selfservice'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('dodp_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('patron_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.String(length=3), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('language', sa.String(length=35), nullable=False),
    sa.Column('reading_system', sa.JSON(), nullable=False),
    sa.Column('created_at', app.db.UTCDateTime(), nullable=False),
    sa.Column('last_seen_at', app.db.UTCDateTime(), nullable=False),
    sa.Column('expires_at', app.db.UTCDateTime(), nullable=False),
    sa.Column('ended_at', app.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['patron_id'], ['patrons.id'], name=op.f('fk_dodp_sessions_patron_id_patrons'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dodp_sessions')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_dodp_sessions_token_hash'))
    )
    with op.batch_alter_table('dodp_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dodp_sessions_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_dodp_sessions_patron_id'), ['patron_id'], unique=False)

    op.create_table('dodp_announcement_reads',
    sa.Column('patron_id', sa.Integer(), nullable=False),
    sa.Column('announcement', sa.String(length=60), nullable=False),
    sa.Column('read_at', app.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['patron_id'], ['patrons.id'], name=op.f('fk_dodp_announcement_reads_patron_id_patrons'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('patron_id', 'announcement', name=op.f('pk_dodp_announcement_reads'))
    )
    op.create_table('dodp_terms_acceptances',
    sa.Column('patron_id', sa.Integer(), nullable=False),
    sa.Column('terms_version', sa.Integer(), nullable=False),
    sa.Column('accepted_at', app.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['patron_id'], ['patrons.id'], name=op.f('fk_dodp_terms_acceptances_patron_id_patrons'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('patron_id', name=op.f('pk_dodp_terms_acceptances'))
    )
    op.create_table('dodp_content_states',
    sa.Column('patron_id', sa.Integer(), nullable=False),
    sa.Column('audiobook_id', sa.Integer(), nullable=False),
    sa.Column('items', sa.Text(), nullable=False),
    sa.Column('progress_state', sa.String(length=10), nullable=True),
    sa.Column('first_accessed_at', app.db.UTCDateTime(), nullable=True),
    sa.Column('last_accessed_at', app.db.UTCDateTime(), nullable=True),
    sa.Column('updated_at', app.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['audiobook_id'], ['lending_audiobooks.id'], name=op.f('fk_dodp_content_states_audiobook_id_lending_audiobooks'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['patron_id'], ['patrons.id'], name=op.f('fk_dodp_content_states_patron_id_patrons'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('patron_id', 'audiobook_id', name=op.f('pk_dodp_content_states'))
    )


def downgrade() -> None:
    op.drop_table('dodp_content_states')
    op.drop_table('dodp_terms_acceptances')
    op.drop_table('dodp_announcement_reads')
    with op.batch_alter_table('dodp_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dodp_sessions_patron_id'))
        batch_op.drop_index(batch_op.f('ix_dodp_sessions_expires_at'))
    op.drop_table('dodp_sessions')
