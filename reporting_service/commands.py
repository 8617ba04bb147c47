"""`mes reporting rebuild|status|generate`: the read model's operator commands."""
import click

from mes_common.commands import main
from mes_common.commands.readmodel import read_model_commands, sessions_of
from reporting_service import history, rebuild as rebuilding, store
from reporting_service.contract import SERVICE, SOURCES


@main.group()
def reporting():
    """The production read model (ISO 22400 KPIs): rebuild it, see its state, generate history."""


read_model_commands(
    reporting, service=SERVICE, sources=SOURCES, rebuild=rebuilding.rebuild, model=store.MODEL,
    describe=lambda c: f"{c['operation']} operations, {c['quantity_report']} reports, {c['bucket']} hour buckets, "
                       f"{c['bucket_day']} day buckets",
    extra=lambda session, status: "; computed through "
                                  f"{store.computed_through(session, store.MODEL.generation(status['active']))}")


@reporting.command("generate")
@click.option("--work-centers", default=50, show_default=True)
@click.option("--days", default=365, show_default=True)
@click.option("--seed", default=1, show_default=True)
@click.option("--yes", is_flag=True, help="replace the answering generation's facts without asking")
@click.pass_context
def generate_cmd(ctx, work_centers, days, seed, yes):
    """Synthetic history (benchmarks, demos): a site of work centers on two shifts running operations,
    with downtime and scrap, written into the model that answers (its facts are replaced)."""
    if not yes:
        click.confirm(f"replace the reporting model's facts with {days} days of {work_centers} work centers?",
                      abort=True)
    engine, sessions = sessions_of(ctx, SERVICE)
    try:
        done = history.generate(sessions, work_centers, days, seed, progress=click.echo)
    finally:
        engine.dispose()
    click.echo(f"generated {done['events']} operation events ({done['operations']} operations, {done['reports']} "
               f"reports, {done['downtimes']} downtimes) over {days} days for {work_centers} work centers; "
               f"site {done['site_id']}; facts in {done['facts_seconds']} s, buckets in {done['buckets_seconds']} s")
