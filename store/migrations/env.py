"""Alembic's environment, run by store/migrate.py on a connection it has already opened and locked.

No alembic.ini: store/migrate.py builds the config and passes the connection in
`config.attributes["connection"]`. A new revision: `python -m store.migrate revision "what changed"`.
"""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.types import TypeDecorator
from sqlmodel import SQLModel

from store import models  # noqa: F401  (registers the tables)


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Our column types (UtcDateTime, sqlmodel's AutoString) as the plain SQLAlchemy type they store,
    so a revision never imports the models it was generated from."""
    if type_ == "type" and isinstance(obj, TypeDecorator):
        return f"sa.{obj.impl!r}"
    return False


connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters a table by copying it
    compare_type=True,
    render_item=render_item,
)
with context.begin_transaction():
    context.run_migrations()
