"""The `promptlane` command: one Typer root, one sub-app per concern; `main` is the entry point."""

from __future__ import annotations

import typer

from api.bootstrap import bootstrap
from api.cli import (
    archive,
    audit,
    connections,
    dataset_curation,
    datasets,
    db,
    demo,
    evals,
    incidents,
    keys,
    monitors,
    online,
    policies,
    prompts,
    suites,
    webhooks,
)
from api.cli._typer import Cli
from api.cli.calls import calls
from api.cli.serve import serve
from api.cli.stats import stats

app = Cli(
    name="promptlane",
    help="promptlane: versioned prompts and LLM configs, evaluation gates, tracing.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.command("serve")(serve)
app.add_typer(db.app, name="db")
app.add_typer(keys.app, name="keys")
app.add_typer(connections.app, name="connections")
app.add_typer(webhooks.app, name="webhooks")
app.add_typer(prompts.app, name="prompts")
app.add_typer(datasets.app, name="datasets")
app.add_typer(suites.app, name="suites")
archive.register(prompts=prompts.app, datasets=datasets.app, suites=suites.app)
dataset_curation.register(datasets.app)
app.add_typer(evals.app, name="eval")
app.add_typer(policies.app, name="policies")
app.add_typer(monitors.app, name="monitors")
app.add_typer(incidents.app, name="incidents")
app.add_typer(audit.app, name="audit")
app.add_typer(online.app, name="online")
app.add_typer(demo.app, name="demo")
app.command("stats")(stats)
app.command("calls")(calls)


def _version() -> str:
    from importlib.metadata import version

    return version("promptlane")


@app.command("version")
def show_version() -> None:
    """Print promptlane's version."""
    typer.echo(_version())


def _print_version(given: bool) -> None:
    if given:
        typer.echo(_version())
        raise typer.Exit


@app.callback()
def root(
    version: bool = typer.Option(
        False,
        "--version",
        help="Print the version and exit.",
        is_eager=True,
        callback=_print_version,
    ),
) -> None:
    """promptlane: versioned prompts and LLM configs, evaluation gates, tracing."""


def main() -> None:
    """Run the `promptlane` command after the process bootstrap."""
    bootstrap()
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
