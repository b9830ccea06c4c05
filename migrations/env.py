"""Alembic environment: the engine comes from the Kuulo app (see app/migrate.py)."""
import re

from alembic import context

from app.models import metadata

config = context.config


def not_full_text_index(name, type_, parent_names):  # noqa: ANN001, ANN201
    """The full-text search structures are made by migrations, not models: SQLite's FTS5 tables (``*_fts``)
    with their shadow tables, and PostgreSQL's GIN expression indexes (``ix_*_fts_<configuration>``)."""
    if type_ == "table":
        return not (name and re.search(r"_fts(_|$)", name))
    if type_ == "index":
        return not (name and re.search(r"_fts_[a-z]+$", name))
    return True


engine = config.attributes["engine"]

with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True,
                      compare_type=True, include_name=not_full_text_index)
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
