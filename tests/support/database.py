"""What tests read of the database directly: how many rows each table has."""

from __future__ import annotations

from sqlalchemy import func, select

from core.database import session_scope
from db.models import Base


def row_counts() -> dict[str, int]:
    """Rows in each of CaseFlow's tables: equal before and after a refused call means it wrote nothing."""
    with session_scope(read_only=True) as session:
        return {table.name: session.scalar(select(func.count()).select_from(table)) or 0
                for table in Base.metadata.sorted_tables}
