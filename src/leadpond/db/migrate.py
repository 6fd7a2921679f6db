"""Running Alembic from code: the migrations ship inside the package."""

from pathlib import Path

from alembic import command
from alembic.config import Config

from leadpond.config import get_settings
from leadpond.db.engine import make_sqlite_folder

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config pointing at the packaged migrations and the given database."""
    url = url or get_settings().database_url
    make_sqlite_folder(url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url)
    config.set_main_option(
        "file_template", "%%(year)d%%(month).2d%%(day).2d_%%(hour).2d%%(minute).2d_%%(slug)s"
    )
    config.attributes["configure_logger"] = False
    return config


def upgrade(url: str | None = None, revision: str = "heads") -> None:
    """Migrate the database to the newest schema."""
    command.upgrade(alembic_config(url), revision)


def check(url: str | None = None) -> None:
    """Fail when the models and the migrations disagree."""
    command.check(alembic_config(url))
