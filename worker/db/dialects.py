"""What differs between SQLite and PostgreSQL: row locks and INSERT ... ON CONFLICT.

`SELECT ... FOR UPDATE` is a no-op on SQLite, where a transaction reads without any lock until
its first write; what it read may be stale by then. A write is what takes SQLite's lock, so
there the lock is a no-op UPDATE of the row: everything read after it is current and stays
so until commit. PostgreSQL takes the row lock itself.
"""

from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from worker.db.models import Base


def lock_row(db: Session, model: type[Base], row_id: int) -> bool:
    """Lock one row of `model` for the rest of the transaction; False if it does not exist."""
    table = model.__table__
    if db.get_bind().dialect.name == "sqlite":
        # text(): a Core update() would also fire the table's onupdate (updated_at).
        result = db.execute(text(f"UPDATE {table.name} SET id = id WHERE id = :id"),
                            {"id": row_id})
        return result.rowcount == 1
    # FOR NO KEY UPDATE: rows that only reference this one (an image of a locked chunk or
    # job) can still be inserted, so a lock here never deadlocks with such an insert.
    found = db.execute(select(table.c.id).where(table.c.id == row_id)
                       .with_for_update(key_share=True))
    return found.first() is not None


def dialect_insert(db: Session):
    """The INSERT construct with ON CONFLICT support for the session's database."""
    return pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
