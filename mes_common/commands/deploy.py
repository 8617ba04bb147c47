"""`mes deploy k8s`: the Kubernetes manifests made from the process registry (mes_common.deploy)."""
import sys
from pathlib import Path

import click
import yaml

from mes_common.commands import main
from mes_common.config import DEFAULT_CONFIG, ROOT

K8S = ROOT / "deploy" / "k8s"
HEADER = "# Made by `mes deploy k8s` from mes_common/deploy.py and config.yml: change those, not this file.\n"


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data):   # no &anchors: each manifest reads on its own
        return True


def _text(dumper, value):   # config.yml as a block, readable in the ConfigMap
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)


def render(documents):
    return HEADER + yaml.dump_all(documents, Dumper=_Dumper, sort_keys=False, width=120, explicit_start=True)


def rendered_files(config_path=None):
    """path under deploy/k8s -> text: the base, and each overlay's database clusters."""
    from mes_common import deploy
    config_text = Path(config_path or DEFAULT_CONFIG).read_text()
    files = {f"base/{name}": render(documents) for name, documents in deploy.base_manifests(config_text).items()}
    for overlay, settings in deploy.OVERLAY_DATABASES.items():
        files[f"overlays/{overlay}/databases.yaml"] = render(deploy.database_clusters(*settings))
    return files


@main.group()
def deploy():
    """Deployment files made from the registry."""


@deploy.command("k8s")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=K8S, show_default=True,
              help="directory of the kustomize base and overlays")
@click.option("--check", is_flag=True, help="change nothing; exit 1 if the files differ from what would be written")
def k8s(out, check):
    """Write the kustomize base of the MES (a Deployment, Service, disruption
    budget and migration Job per process, autoscalers, network policies, the
    settings and config.yml as ConfigMaps) and the overlays' database clusters;
    the rest of the overlays is kept by hand."""
    files = rendered_files()
    stale = [name for name, text in files.items()
             if not (out / name).is_file() or (out / name).read_text() != text]
    base = out / "base"
    extra = sorted(f"base/{p.name}" for p in base.glob("*.yaml") if f"base/{p.name}" not in files) \
        if base.is_dir() else []
    if check:
        for name in stale:
            click.echo(f"{out / name}: differs from `mes deploy k8s`", err=True)
        for name in extra:
            click.echo(f"{out / name}: not made by `mes deploy k8s` (a removed process?)", err=True)
        sys.exit(1 if stale or extra else 0)
    for name in stale:
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_text(files[name])
    for name in extra:
        (out / name).unlink()
    click.echo(f"{out}: {len(stale)} written, {len(extra)} removed, {len(files) - len(stale)} unchanged")
