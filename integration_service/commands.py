"""`mes integration messages|replay|receiver`: the integration service's operator commands."""
import json
import re
import pathlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import click

from mes_common.commands import main
from integration_service.contract import SERVICE, webhooks


@main.group()
def integration():
    """B2MML with ERP/PLM and webhooks: the message log, replays, a test receiver."""


def _rpc(ctx, timeout=30):
    from mes_common.rpc import ClusterRpcProxy
    return ClusterRpcProxy(ctx.obj["config"], timeout=timeout, context_data={"actor": "cli"})


@integration.command("messages")
@click.option("--status", help="processing, accepted, rejected, failed, pending, delivered, parked")
@click.option("--direction", type=click.Choice(["in", "out"]))
@click.option("--touched", help="a work order, part, lot or serial number the message touched")
@click.option("--limit", default=20, show_default=True)
@click.pass_context
def messages_cmd(ctx, status, direction, touched, limit):
    """The message log, newest first."""
    query = {k: v for k, v in (("status", status), ("direction", direction), ("touched", touched)) if v}
    with _rpc(ctx) as cluster:
        page = getattr(cluster, SERVICE).list_messages({**query, "limit": limit})
    for m in page["items"]:
        click.echo(f"{m['created_at'][:19]}  {m['id']}  {m['direction']:<3} {m['status']:<10} "
                   f"{(m['verb'] or '') + (m['noun'] or m['kind']):<36} attempts {m['attempts']:<3} "
                   f"{m['document_id'] or ''}  {(m['last_error'] or '')[:60]}")


@integration.command("replay")
@click.argument("message_id")
@click.pass_context
def replay_cmd(ctx, message_id):
    """Apply a rejected or failed inbound message again, or send a parked outbound one again."""
    with _rpc(ctx) as cluster:
        message = getattr(cluster, SERVICE).replay_message(message_id)
    click.echo(f"message {message['id']}: {message['status']}")


@integration.command("receiver")
@click.option("--port", default=8099, show_default=True)
@click.option("--dir", "directory", default="/tmp/mes-received", show_default=True, type=click.Path())
@click.option("--secret", help="a webhook's signing secret: check each signature")
def receiver_cmd(port, directory, secret):
    """A local endpoint for trying endpoints and webhooks out: writes each message it receives to DIR
    (checking webhook signatures with --secret) and answers 200."""
    out = pathlib.Path(directory)
    out.mkdir(parents=True, exist_ok=True)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            # a file name of the sender's id, reduced to what cannot leave the directory
            name = re.sub(r"[^A-Za-z0-9_-]", "_", self.headers.get("webhook-id") or
                          self.headers.get("Idempotency-Key") or "message")[:100]
            verdict = ""
            if secret and "webhook-id" in self.headers:
                try:
                    webhooks.verify(secret, dict(self.headers), body)
                    verdict = "signature valid"
                except webhooks.InvalidSignature as exc:
                    verdict = f"signature INVALID: {exc}"
            extension = "json" if "json" in (self.headers.get("Content-Type") or "") else "xml"
            (out / f"{name}.{extension}").write_bytes(body)
            kept = {k: ("(present)" if k.lower() in ("authorization", "proxy-authorization") else v)
                    for k, v in self.headers.items()}   # a credential is not written down
            (out / f"{name}.headers.json").write_text(json.dumps(kept, indent=1))
            click.echo(f"{self.command} {self.path} {self.headers.get('Content-Type')} {len(body)} bytes → "
                       f"{out / f'{name}.{extension}'} {verdict}")
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    click.echo(f"receiving on http://127.0.0.1:{port}/ into {out} (Ctrl-C stops)")
    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
