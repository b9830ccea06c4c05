"""card numbers from a PostgreSQL sequence (no row lock, no transaction of their own)

Revision ID: 0060_card_number_sequence
Revises: 0050_cdclub
Create Date: 2026-12-02 11:40:00

On PostgreSQL new card numbers come from the sequence ``card_numbers`` (``nextval`` never waits for
another transaction). It continues from the ``counters`` row and is owned by ``counters.value``, so a
``TRUNCATE counters RESTART IDENTITY`` starts it again. SQLite keeps using the counter row.
"""
from alembic import op

revision = '0060_card_number_sequence'
down_revision = '0050_cdclub'
branch_labels = None
depends_on = None

FIRST_CARD_NUMBER = 2000000001


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"CREATE SEQUENCE card_numbers START WITH {FIRST_CARD_NUMBER} OWNED BY counters.value")
    op.execute("SELECT setval('card_numbers', value + 1, false) FROM counters WHERE name = 'card_number'")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("INSERT INTO counters (name, value) SELECT 'card_number', last_value FROM card_numbers "
               "WHERE is_called ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value")
    op.execute("DROP SEQUENCE card_numbers")
