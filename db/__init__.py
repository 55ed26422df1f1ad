"""CaseFlow's data layer: typed SQLAlchemy models, engine and sessions, Alembic migrations."""
