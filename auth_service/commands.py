"""`mes create-admin`: the first administrator, straight into mes_auth (works
before any service runs)."""
import getpass
import os

import click

from auth_service import accounts
from auth_service.models import AuditEntry, Base, InboxEvent, OutboxEvent
from mes_common.commands import main
from mes_common.config import database_url
from mes_common.db import StandaloneUnitOfWork
from mes_common.errors import MesError

SERVICE = "auth_service"


@main.command("create-admin")
@click.option("--username", required=True, help="login name of the administrator")
@click.option("--display-name", help="printed name (default: the username)")
@click.option("--email")
@click.pass_context
def create_admin(ctx, username, display_name, email):
    """Create an administrator (password from $MES_ADMIN_PASSWORD or a prompt).

    Brings the built-in roles up to date first, so it works on a fresh database."""
    password = os.environ.get("MES_ADMIN_PASSWORD") or click.prompt(
        "Password (12+ characters, not guessable)", hide_input=True, confirmation_prompt=True)
    uow = StandaloneUnitOfWork(database_url(ctx.obj["config"], SERVICE), SERVICE,
                               Base, OutboxEvent, InboxEvent, AuditEntry)
    tx = uow.transaction(actor=f"cli:{getpass.getuser()}")
    try:
        with tx:
            user = accounts.create_admin(tx, username, password, display_name=display_name, email=email)
    except MesError as exc:
        for field, messages in exc.details.items():
            click.echo(f"  {field}: {'; '.join(map(str, messages)) if isinstance(messages, list) else messages}",
                       err=True)
        raise click.ClickException(exc.message) from None
    finally:
        tx.close()
        uow.dispose()
    click.echo(f"created administrator {user['username']} ({user['id']}) with role admin\n"
               "the admin role requires MFA: the first sign-in opens the enrolment of an authenticator only "
               "(POST /api/v1/auth/me/mfa/totp, then .../confirm; `mes shell` enrols in a terminal)")
