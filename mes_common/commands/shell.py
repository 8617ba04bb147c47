"""`mes shell`: an interactive Python with `n.rpc.<service>.<method>(...)`, as
`nameko shell` gives, signed in as a person so that every change made from
it is audited as theirs, and with the typed MES errors at hand."""
import code
import getpass
import os
import sys

import click

from mes_common import errors, registry
from mes_common.commands import main

AUTH_SERVICE = "auth_service"
SHELL_CLIENT = {"address": "mes shell", "user_agent": "mes shell"}


class Helper:
    """`n` in the shell: `n.rpc.<service>.<method>(...)`, `n.config`, `n.user`."""

    def __init__(self, config, rpc, user):
        self.config, self.rpc, self.user = config, rpc, user

    def __repr__(self):
        return f"<mes shell as {self.user['username']}: n.rpc.<service>.<method>(...), n.config, n.user>"


def sign_in(proxy, username, password, totp=None):
    """The auth service's answer to a sign-in with these credentials: the
    session's user (id, username) and session id. Asks for a one-time code when
    the account has MFA and none was given ($MES_TOTP, else a prompt); enrols
    an authenticator first when a role of the user requires MFA."""
    import jwt  # the token comes straight from the auth service over the broker: its claims are read, not verified

    totp = totp or os.environ.get("MES_TOTP") or None
    credentials = {"username": username, "password": password, **({"totp": totp} if totp else {})}
    try:
        tokens = getattr(proxy, AUTH_SERVICE).login(credentials, SHELL_CLIENT)
    except errors.Unauthenticated as exc:
        if "totp" in exc.details and totp is None and sys.stdin.isatty():
            return sign_in(proxy, username, password, click.prompt("one-time code", hide_input=False))
        raise click.ClickException(f"sign-in refused: {exc.message}") from None
    except errors.MesError as exc:
        raise click.ClickException(f"sign-in refused: {exc.message}") from None
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    user = {"id": claims["sub"], "username": claims.get("name") or username, "session_id": tokens["session_id"]}
    if tokens.get("mfa_enrolment_required"):
        enrol(getattr(proxy, AUTH_SERVICE), user)
    return user


def enrol(auth, user):
    """A role of the user requires MFA and none is enrolled: enrol an authenticator
    now (the code confirming it proves the second factor) or refuse the shell."""
    if not sys.stdin.isatty():
        auth.logout(user["id"], user["session_id"])
        raise click.ClickException("sign-in refused: a role of yours requires MFA; enrol an authenticator "
                                   "first (POST /api/v1/auth/me/mfa/totp, or `mes shell` in a terminal)")
    enrolment = auth.begin_totp(user["id"])
    click.echo(f"A role of yours requires MFA. Add this to your authenticator app:\n  {enrolment['provisioning_uri']}")
    while True:
        try:
            codes = auth.confirm_totp(user["id"], {"code": click.prompt("code shown by the app")})
            break
        except errors.MesError as exc:
            click.echo(f"  {exc.message}")
    click.echo("MFA is on. Recovery codes (each works once in place of a code; store them now):")
    for code_ in codes["recovery_codes"]:
        click.echo(f"  {code_}")


@main.command("shell")
@click.option("--as", "username", envvar="MES_USER", help="sign in as this user (default: asked); the password "
              "comes from $MES_PASSWORD or a prompt")
@click.option("--timeout", type=float, default=30.0, show_default=True, help="seconds an RPC may take")
@click.pass_context
def shell(ctx, username, timeout):
    """Python with `n.rpc.<service>.<method>(...)`, signed in: changes are audited as you."""
    import logging
    import warnings

    with warnings.catch_warnings():  # eventlet's deprecation notice is noise here
        warnings.simplefilter("ignore")
        from mes_common.rpc import ClusterRpcProxy
    for logger in ("amqp", "kombu", "nameko"):
        logging.getLogger(logger).setLevel(logging.ERROR)

    config = ctx.obj["config"]
    username = username or click.prompt("username")
    password = os.environ.get("MES_PASSWORD") or getpass.getpass(f"password for {username}: ")
    with ClusterRpcProxy(config, timeout=timeout) as anonymous:
        user = sign_in(anonymous, username, password)
    context = {"actor": user["username"], "user_id": user["id"], "session_id": user["session_id"]}
    with ClusterRpcProxy(config, timeout=timeout, context_data=context) as rpc:
        namespace = {"n": Helper(config, rpc, user), "errors": errors,
                     **{cls.__name__: cls for cls in errors.ALL}}
        banner = (f"MES shell, signed in as {user['username']}: changes are audited as yours.\n"
                  f"  n.rpc.<service>.<method>(...), e.g. n.rpc.resource_service.list_nodes({{'level': 'site'}})\n"
                  f"  services: {', '.join(spec.name for spec in registry.SERVICES)}\n"
                  f"  errors: {', '.join(cls.__name__ for cls in errors.ALL)} (each with .details)")
        try:
            code.interact(banner=banner, local=namespace, exitmsg="")
        finally:
            try:
                getattr(rpc, AUTH_SERVICE).logout(user["id"], user["session_id"])
            except Exception:  # the session then ends by its idle timeout
                pass
