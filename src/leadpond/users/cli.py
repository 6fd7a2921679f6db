"""``leadpond user``: console users and their roles."""

import secrets
from typing import Annotated

import typer
from rich.console import Console

from leadpond.db import migrate
from leadpond.db.engine import unit_of_work
from leadpond.users import service
from leadpond.workspaces.service import find_workspace

user_app = typer.Typer(help="Console users and their roles per workspace.", no_args_is_help=True)
console = Console()


@user_app.command("create")
def create(
    email: Annotated[str, typer.Argument(help="Login email")],
    workspace: Annotated[str, typer.Option(help="Workspace name or id")],
    role: Annotated[str, typer.Option(help="admin, marketer, sales or viewer")] = "viewer",
    name: Annotated[str, typer.Option(help="Display name")] = "",
    password: Annotated[
        str | None, typer.Option(help="Password (default: a generated one, printed once)")
    ] = None,
    locale: Annotated[str, typer.Option(help="zh_CN or en")] = "zh_CN",
) -> None:
    """Create a user (or reuse one with this email) and give them a role in the workspace."""
    migrate.upgrade()
    generated = password is None
    secret = password if password is not None else secrets.token_urlsafe(12)
    with unit_of_work() as session:
        found = find_workspace(session, workspace)
        user = service.find_user(session, email)
        created = user is None
        if user is None:
            user = service.create_user(session, email, name, secret, locale)
        elif password is not None:
            service.set_password(session, user, password)
        service.grant(session, user.id, found.id, role)
        address = user.email
    console.print(f"{'created' if created else 'updated'} {address}: {role} of {found.name}")
    if generated and created:
        console.print(f"password: [bold]{secret}[/] (shown once)")


@user_app.command("list")
def list_users(workspace: Annotated[str, typer.Option(help="Workspace name or id")]) -> None:
    """The workspace's users and their roles."""
    with unit_of_work() as session:
        found = find_workspace(session, workspace)
        for user, membership in service.members(session, found.id):
            console.print(f"{user.email}\t{membership.role}\t{user.name}")
