"""`mes new-service NAME`: a working, migrated, tested service from the
template (mes_common/templates/service), wired into every place a service
needs; `mes new-service NAME --remove` takes it out again.

What it writes: the package NAME/ (contract, domain, models, use cases,
service, migrations, tests), its gateway route table, and one marked block in
each shared file: the registry, config.yml, .env.example, docker-compose.yml
(its database container unless the design seeds one, the service, the
gateway's dependency on it) and the permission catalogue (NAME's read/write
permissions). Everything else (testpaths, gateway clients, /ready, `mes
migrate`, `mes run`, test databases) follows from the registry.
"""
import datetime as dt
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import click

from mes_common import registry
from mes_common.commands import main
from mes_common.config import ROOT

TEMPLATE = Path(__file__).resolve().parents[1] / "templates" / "service"
_NAME = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*_service$")


@dataclass(frozen=True)
class NewService:
    name: str      # demo_service

    @property
    def short(self):      # demo
        return self.name.removesuffix("_service")

    @property
    def words(self):
        return self.short.split("_")

    @property
    def values(self):
        return {
            "service": self.name, "short": self.short, "url": "-".join(self.words),
            "Class": "".join(w.capitalize() for w in self.words) + "Service",
            "title": " ".join(self.words).capitalize(), "ENV": self.short.upper(),
            "database": f"mes_{self.short}", "dashed": "-".join(self.words),
            "date": dt.date.today().isoformat(),
        }

    def render(self, text):
        for key, value in self.values.items():
            text = text.replace("{{" + key + "}}", value)
        return text


def _marked(service, lines, indent=""):
    return [f"{indent}# >>> {service.name} (mes new-service)", *lines, f"{indent}# <<< {service.name}"]


def _insert_before(path, anchor, block):
    text = path.read_text()
    if anchor not in text:
        raise click.ClickException(f"{path.relative_to(ROOT)}: no line {anchor.strip()!r} to add {block[0]} before")
    path.write_text(text.replace(anchor, "\n".join(block) + "\n" + anchor, 1))


def _remove_blocks(path, service):
    """Drop every block `mes new-service` marked for `service` in `path`."""
    lines, out, skipping = path.read_text().split("\n"), [], False
    for line in lines:
        if line.strip() == f"# >>> {service.name} (mes new-service)":
            skipping = True
        elif skipping and line.strip() == f"# <<< {service.name}":
            skipping = False
        elif not skipping:
            out.append(line)
    path.write_text("\n".join(out))


def _next_database_port(compose_text):
    ports = [int(p) for p in re.findall(r":(\d{4}):5432\"", compose_text)]
    return max(ports, default=5431) + 1


def shared_file_blocks(service, root):
    """(file, anchor line, block) for every shared file the service is added to."""
    v = service.values
    compose = (root / "docker-compose.yml").read_text()
    blocks = [
        (root / "mes_common" / "registry.py", "    # new services go above this line (mes new-service)\n",
         _marked(service, [f'    ServiceSpec("{v["service"]}", "{v["service"]}.service:{v["Class"]}", '
                           f'"{v["database"]}", "{v["ENV"]}_DATABASE_URL"),'], "    ")),
    ]
    # the eight services of the design have their database URL, password and
    # permissions already; a service beyond them gets its own
    if f"\n  {v['service']}: " not in (root / "config.yml").read_text():
        blocks.append((root / "config.yml", "  # new services go above this line (mes new-service)\n",
                       _marked(service, [f'  {v["service"]}: !raw_env_var ${{{v["ENV"]}_DATABASE_URL:'
                                         f'postgresql+psycopg2://{v["database"]}@127.0.0.1:5432/{v["database"]}}}'],
                               "  ")))
    if f"\n{v['ENV']}_DATABASE_URL=" not in (root / ".env.example").read_text():
        blocks.append((root / ".env.example", "# new services go above this line (mes new-service)\n",
                       _marked(service, [f'{v["ENV"]}_DATABASE_URL=postgresql+psycopg2://{v["database"]}@'
                                         f'127.0.0.1:5432/{v["database"]}',
                                         f'{v["ENV"]}_DB_PASSWORD=change-me-{v["dashed"]}',
                                         f'{v["ENV"]}_BROKER_PASSWORD=change-me-{v["dashed"]}-broker'])))
    permissions = root / "auth_service" / "contract" / "permissions.py"
    if f'"{v["short"]}:read"' not in permissions.read_text():
        blocks.append((permissions, "    # new services' permissions go above this line (mes new-service)\n",
                       _marked(service, [f'    "{v["short"]}:read": "see {v["title"].lower()} items",',
                                         f'    "{v["short"]}:write": "create and change {v["title"].lower()} items",'],
                               "    ")))
    compose_file = root / "docker-compose.yml"
    if f"\n  {v['dashed']}-db:\n" not in compose:  # the design seeds the eight services' databases
        port = _next_database_port(compose)
        blocks.append((compose_file, "  # new databases go above this line (mes new-service)\n", _marked(service, [
            f"  {v['dashed']}-db:",
            "    <<: *postgres",
            "    ports:",
            f'      - "${{MES_BIND_ADDRESS:-127.0.0.1}}:{port}:5432"',
            "    volumes:",
            f"      - {v['dashed']}-db-data:/var/lib/postgresql/data"], "  ")))
        blocks.append((compose_file, "  # new volumes go above this line (mes new-service)\n",
                       _marked(service, [f"  {v['dashed']}-db-data:"], "  ")))
    url = (f"{v['ENV']}_DATABASE_URL: postgresql+psycopg2://{v['database']}:${{{v['ENV']}_DB_PASSWORD}}@"
           f"{v['dashed']}-db:5432/{v['database']}")
    broker_password = f"{v['ENV']}_BROKER_PASSWORD"
    blocks += [
        (compose_file, "      # new database URLs of the migrate job go above this line (mes new-service)\n",
         _marked(service, [f"      {url}", f"      {broker_password}: ${{{broker_password}:?set {broker_password} "
                                          "in .env (see .env.example)}"], "      ")),
        (compose_file, "      # the migrate job waits for new databases above this line (mes new-service)\n",
         _marked(service, [f"      {v['dashed']}-db:", "        condition: service_healthy"], "      ")),
        (compose_file, "  # new services go above this line (mes new-service)\n", _marked(service, [
            f"  {v['service']}:",
            "    <<: *service",
            f"    command: {v['service']}",
            "    environment:",
            "      <<: *service-env",
            '      MES_MIGRATE: "0"   # the migrate job did it, as the database\'s owner',
            f"      AMQP_URI: amqp://{v['database']}:${{{broker_password}}}@rabbitmq:5672/",
            f"      {url}",
            "    depends_on:",
            "      <<: *infra-healthy",
            f"      {v['dashed']}-db:",
            "        condition: service_healthy",
            "      migrate:",
            "        condition: service_completed_successfully"], "  ")),
        (compose_file, "      # the gateway waits for new services above this line (mes new-service)\n",
         _marked(service, [f"      {v['service']}:", "        condition: service_healthy"], "      ")),
    ]
    return blocks


def create(service, root=ROOT):
    package = root / service.name
    routes = root / "gateway" / "routes" / f"{service.short}.py"
    if package.exists() or routes.exists():
        raise click.ClickException(f"{service.name} exists already ({package.relative_to(root)} or "
                                   f"{routes.relative_to(root)})")
    blocks = shared_file_blocks(service, root)
    for template in sorted(TEMPLATE.rglob("*.tmpl")):
        relative = template.relative_to(TEMPLATE).with_suffix("")
        target = routes if relative.name == "gateway_routes.py" else package / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(service.render(template.read_text()))
    for path, anchor, block in blocks:
        _insert_before(path, anchor, block)
    return [package, routes, *sorted({path for path, _, _ in blocks})]


def remove(service, root=ROOT):
    touched = []
    for path in (root / service.name, root / "gateway" / "routes" / f"{service.short}.py"):
        if path.is_dir():
            shutil.rmtree(path)
            touched.append(path)
        elif path.exists():
            path.unlink()
            touched.append(path)
    for path in (root / "mes_common" / "registry.py", root / "config.yml", root / ".env.example",
                 root / "auth_service" / "contract" / "permissions.py", root / "docker-compose.yml"):
        before = path.read_text()
        _remove_blocks(path, service)
        if path.read_text() != before:
            touched.append(path)
    return touched


@main.command("new-service")
@click.argument("name")
@click.option("--remove", "remove_it", is_flag=True, help="take a service made by this command out again")
def new_service(name, remove_it):
    """Create NAME (e.g. quality_service) from the service template, wired into
    the registry, config, compose, permissions and the gateway; then `make test`
    runs its tests and `make run` serves /api/v1/<name>/items."""
    if not _NAME.match(name):
        raise click.BadParameter("lower case words joined by '_', ending in _service (e.g. quality_service)",
                                 param_hint="NAME")
    service = NewService(name)
    if remove_it:
        touched = remove(service)
        click.echo(f"removed {name}: " + (", ".join(str(p.relative_to(ROOT)) for p in touched) or "nothing found"))
        return
    if any(spec.name == name for spec in registry.SERVICES):
        raise click.ClickException(f"{name} is registered already")
    touched = create(service)
    v = service.values
    click.echo(f"created {name}: " + ", ".join(str(p.relative_to(ROOT)) for p in touched))
    click.echo(f"next: `make db` (database {v['database']} and migrations), `make test`, `make run`, then\n"
               f"  GET /api/v1/{v['url']}/items (permissions {v['short']}:read / {v['short']}:write; the admin "
               f"role has them)\nreplace the example items with the service's own aggregate.")
