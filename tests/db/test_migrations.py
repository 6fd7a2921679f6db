"""The migrations build exactly the schema the models describe, on both databases."""

from leadpond.db import migrate


def test_models_and_migrations_agree(database_url: str) -> None:
    migrate.upgrade(database_url)
    migrate.check(database_url)  # raises when autogenerate would find a difference
