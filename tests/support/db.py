"""Looking at the test's database as a whole: how many rows each of CaseFlow's tables holds."""

from __future__ import annotations

from sqlalchemy import func, select

from core.database import session_scope
from db.models import Base


def row_counts() -> dict[str, int]:
    """Rows per CaseFlow table: equal before and after a refused call means it wrote nothing."""
    with session_scope(read_only=True) as session:
        return {name: session.scalar(select(func.count()).select_from(table)) or 0
                for name, table in Base.metadata.tables.items()}
