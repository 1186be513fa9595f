"""Persistence: SQLAlchemy models, Alembic migrations, database sessions and the face vector index."""
