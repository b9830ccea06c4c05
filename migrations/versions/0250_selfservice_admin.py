"""selfservice_admin: self-service: terminal administration, door log views (the last login of a terminal)

Revision ID: 0250_selfservice_admin
Revises: 0240_account_requests
Create Date: 2026-12-03 17:20:00
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import app.db  # noqa: F401

revision = '0250_selfservice_admin'
down_revision = '0240_account_requests'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The admin page of terminals shows each terminal's last successful login.
    with op.batch_alter_table("sip_terminals") as batch:
        batch.add_column(sa.Column("last_login_at", app.db.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sip_terminals") as batch:
        batch.drop_column("last_login_at")
