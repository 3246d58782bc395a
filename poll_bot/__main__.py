"""`poll-bot` (or `python -m poll_bot`): run the bot, and the commands that operate it.

    poll-bot [serve]                                  run the bot (the default)
    poll-bot migrate                                  apply the database migrations and exit
    poll-bot migrate --to postgresql://...            copy the SQLite database into an empty PostgreSQL one
    poll-bot backup PATH                              copy the database, also while the bot runs
    poll-bot package --app-id GUID --out FILE.zip     build the Teams app package

Configuration comes from the environment (README, "Configuration"). Each command is a
function taking the parsed arguments and returning the exit status.
"""
from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
from pathlib import Path

from . import app_package, server
from .config import Config
from .logs import configure_logging
from .signing import UnusableSecret, server_secret
from .store import Store
from .store.db import backup as copy_database


def main(argv: list[str] | None = None) -> None:
    configure_logging()
    args = _parser().parse_args(argv)
    try:
        status = args.command(args)
    except UnusableSecret as error:
        print(f"poll-bot will not start: {error}", file=sys.stderr)
        status = 2
    sys.exit(status)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="poll-bot", description="A Microsoft Teams bot for polls and approvals.")
    parser.set_defaults(command=serve)
    commands = parser.add_subparsers(title="commands")

    commands.add_parser("serve", help="run the bot (the default)").set_defaults(command=serve)
    migrate_parser = commands.add_parser("migrate", help="apply the database migrations and exit")
    migrate_parser.add_argument("--to", metavar="postgresql://...", type=_postgres_url,
                                help="copy everything from the SQLite database (POLL_BOT_DB) into this empty "
                                     "PostgreSQL database instead")
    migrate_parser.set_defaults(command=migrate)

    backup_parser = commands.add_parser("backup", help="copy the database consistently, also while the bot runs")
    backup_parser.add_argument("path", type=Path, help="where to write the copy")
    backup_parser.set_defaults(command=backup)

    package_parser = commands.add_parser("package", help="build the Teams app package (manifest v1.23 and icons)")
    package_parser.add_argument("--app-id", required=True, type=_app_id, help="the bot's Microsoft App ID (a GUID)")
    package_parser.add_argument("--out", type=Path, default=Path("poll-bot.zip"), help="the zip to write")
    package_parser.add_argument("--app-version", help="the app's version in the manifest (raise it for each update)")
    package_parser.set_defaults(command=package)
    return parser


def serve(args: argparse.Namespace) -> int:
    config = Config.from_env()
    problem = config.startup_problem()
    if problem:
        print(f"poll-bot will not start: {problem}", file=sys.stderr)
        return 2
    asyncio.run(server.serve(config))
    return 0


def migrate(args: argparse.Namespace) -> int:
    config = Config.from_env()
    path, secret = config.DB_PATH, server_secret(config.SECRET, Path(config.DB_PATH).parent)
    if args.to:
        return copy_to_postgres(path, args.to, secret)
    print(f"{path}: schema version {asyncio.run(_migrated(path, '', secret))}")
    return 0


async def _migrated(path: str, url: str, secret: bytes) -> int:
    """Open the database, which applies pending migrations, and give its schema version."""
    store = await Store.open(path, url, secret)
    try:
        return await store.schema_version()
    finally:
        await store.close()


def copy_to_postgres(path: str, url: str, secret: bytes) -> int:
    """Both databases are brought to this version's schema first, then every row is copied in one
    transaction; a target holding any row is refused and nothing is written."""
    import psycopg  # only this command and a PostgreSQL store need it
    from .store import transfer
    from .store.postgres import postgres_name

    if not Path(path).is_file():
        print(f"poll-bot migrate: there is no SQLite database at {path} (set POLL_BOT_DB)", file=sys.stderr)
        return 1
    try:
        psycopg.connect(url, connect_timeout=10).close()  # the pool would retry a bad address for 30 s
        asyncio.run(_migrated(path, "", secret))
        version = asyncio.run(_migrated("", url, secret))
        copied = transfer.copy_sqlite_to_postgres(path, url)
    except (transfer.CopyRefused, OSError, sqlite3.Error, psycopg.Error) as error:
        print(f"poll-bot migrate: nothing was copied: {error}", file=sys.stderr)
        return 1
    for table, rows in copied.items():
        print(f"{table}: {rows} rows")
    print(f"copied {sum(copied.values())} rows in {len(copied)} tables from {path} to "
          f"{postgres_name(url)} (schema version {version})")
    return 0


def backup(args: argparse.Namespace) -> int:
    path = Config.from_env().DB_PATH
    try:
        copy_database(path, str(args.path))
    except (OSError, ValueError, sqlite3.Error) as error:
        print(f"poll-bot backup: {error}", file=sys.stderr)
        return 1
    print(args.path)
    return 0


def package(args: argparse.Namespace) -> int:
    manifest = app_package.manifest_for(args.app_id, args.app_version)
    problems = app_package.schema_problems(manifest)
    if problems:
        print("poll-bot package: the manifest does not match the Teams schema v1.23:", *problems,
              sep="\n  ", file=sys.stderr)
        return 1
    app_package.write_package(manifest, args.out)
    print(args.out)
    return 0


def _postgres_url(text: str) -> str:
    if not text.startswith(("postgresql://", "postgres://")):
        raise argparse.ArgumentTypeError("expected a postgresql://user:password@host:port/dbname URL")
    return text


def _app_id(text: str) -> str:
    try:
        return app_package.parse_app_id(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


if __name__ == "__main__":
    main()
