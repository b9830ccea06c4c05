"""catalogue_speed: drop the material-type index that the (material_type, year) index already covers

Every record insert maintained both; every query that filters or groups by material type can use the
composite index's leading column (SQLite and PostgreSQL alike), so the single-column one only cost time
on import (one B-tree insert per record: a million of them per large import).

Revision ID: 0270_catalogue_speed
Revises: 0260_dodp_speed
Create Date: 2026-12-03 17:20:00
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op

import app.db  # noqa: F401

revision = '0270_catalogue_speed'
down_revision = '0260_dodp_speed'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index('ix_catalogue_records_material_type', table_name='catalogue_records')


def downgrade() -> None:
    op.create_index('ix_catalogue_records_material_type', 'catalogue_records', ['material_type'], unique=False)
