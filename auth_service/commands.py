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


@main.command("generate-keys")
@click.option("--out", type=click.Path(file_okay=False), required=True, help="directory to write the keys to")
def generate_keys(out):
    """A new signing key pair and secrets key for a deployment that does not
    generate its own (Kubernetes: docs/operations.md). The private key and the
    secrets key go to the auth service alone; the public key to the gateway."""
    from pathlib import Path
    from cryptography.fernet import Fernet
    from auth_service.contract.tokens import generate_keypair
    from mes_common.sealing import write_private

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    files = {name: out / name for name in ("signing_key.pem", "signing_key.pub.pem", "secrets.key")}
    existing = [str(p) for p in files.values() if p.exists()]
    if existing:
        raise click.ClickException(f"not overwriting {', '.join(existing)}: a replaced key signs users out "
                                   "and a replaced secrets key loses the TOTP seeds it sealed")
    private_pem, public_pem = generate_keypair()
    write_private(files["signing_key.pem"], private_pem)
    write_private(files["signing_key.pub.pem"], public_pem, mode=0o644)
    write_private(files["secrets.key"], Fernet.generate_key().decode())
    for path in files.values():
        click.echo(path)
