"""jobs heartbeat: who holds a job's lock (PID and where it is valid), since when, last heartbeat

Revision ID: 0090_jobs_heartbeat
Revises: 0080_mail_outbox_lease_owner
Create Date: 2026-12-03 10:00:00

Locks held at upgrade time keep their old lease (up to two hours) unless taken with
`flask --app app jobs run-once --force NAME`; the new columns are NULL for them.
"""
from alembic import op
import sqlalchemy as sa

import app.db

revision = '0090_jobs_heartbeat'
down_revision = '0080_mail_outbox_lease_owner'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('job_locks') as batch:
        batch.add_column(sa.Column('token', sa.String(length=32), nullable=True))
        batch.add_column(sa.Column('pid', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('pid_scope', sa.String(length=200), nullable=True))
        batch.add_column(sa.Column('acquired_at', app.db.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column('heartbeat_at', app.db.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('job_locks') as batch:
        batch.drop_column('heartbeat_at')
        batch.drop_column('acquired_at')
        batch.drop_column('pid_scope')
        batch.drop_column('pid')
        batch.drop_column('token')
