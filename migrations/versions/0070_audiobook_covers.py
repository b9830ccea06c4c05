"""audiobook covers: where a book's cover image is stored, and its type

Revision ID: 0070_audiobook_covers
Revises: 0060_card_number_sequence
Create Date: 2026-12-02 14:55:00

Books ingested before this have no cover until they are ingested again (an unchanged book is then
re-uploaded once, because its stored version lacks the cover it now has).
"""
from alembic import op
import sqlalchemy as sa

revision = '0070_audiobook_covers'
down_revision = '0060_card_number_sequence'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('lending_audiobooks') as batch:
        batch.add_column(sa.Column('cover_key', sa.String(length=400), nullable=True))
        batch.add_column(sa.Column('cover_type', sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('lending_audiobooks') as batch:
        batch.drop_column('cover_type')
        batch.drop_column('cover_key')
