"""Alembic environment: the engine comes from the Kuulo app (see app/migrate.py)."""
import re

from alembic import context

from app.models import metadata

config = context.config


def not_full_text_index(name, type_, parent_names):  # noqa: ANN001, ANN201
    """SQLite FTS5 tables (``*_fts``) and their shadow tables are made by migrations, not models."""
    return not (type_ == "table" and name and re.search(r"_fts(_|$)", name))


engine = config.attributes["engine"]

with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True,
                      compare_type=True, include_name=not_full_text_index)
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
