"""institutions: canned replies for the review queue (questions and rejection reasons, fi/sv/en)

Revision ID: 0190_review_replies
Revises: 0180_usability
Create Date: 2026-12-03 14:20:00
"""
import sqlalchemy as sa
from alembic import op

import app.db

revision = '0190_review_replies'
down_revision = '0180_usability'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'institution_review_replies',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('title', sa.String(length=120), nullable=False),
        sa.Column('text_fi', sa.Text(), nullable=False),
        sa.Column('text_sv', sa.Text(), nullable=False),
        sa.Column('text_en', sa.Text(), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('updated_at', app.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_institution_review_replies')),
    )


def downgrade() -> None:
    op.drop_table('institution_review_replies')
