"""mail: the outbox remembers which delivery run holds a message it is sending

Revision ID: 0080_mail_outbox_lease_owner
Revises: 0070_audiobook_covers
Create Date: 2026-12-03 10:00:00

A sender checks it still owns a message (owner and lease) before it hands it to SMTP, so two
delivery runs never send the same message. Rows being sent during the upgrade have no owner; their
lease runs out and the next run takes them over.
"""
import sqlalchemy as sa
from alembic import op

revision = '0080_mail_outbox_lease_owner'
down_revision = '0070_audiobook_covers'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox_messages') as batch:
        batch.add_column(sa.Column('lease_owner', sa.String(length=100), server_default='', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('outbox_messages') as batch:
        batch.drop_column('lease_owner')
