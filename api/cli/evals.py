"""`promptlane eval`: run a suite on a prompt version and follow it; show, compare, cancel."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from api.cli import junit
from api.cli._common import (
    DEFAULT_URL,
    ApiKeyOption,
    JsonOption,
    UrlOption,
    WideOption,
    console,
    err_console,
    exit_on_errors,
    fail,
    handle_errors,
    make_client,
    plural,
    print_table,
    show,
)
from api.cli._typer import Cli
from api.cli.run_report import fmt, print_comparison, print_failed_items
from evals.reports import (
    RunComparison,
    RunItemRead,
    RunProgress,
    RunRead,
    RunStatus,
    RunSummary,
    Verdict,
)
from promptlane_client import Client

app = Cli(
    help="Evaluation runs: run a suite on a prompt version (exit 0 passed, 1 failed, 2 error).",
    no_args_is_help=True,
)
URL = DEFAULT_URL
EXIT_PASSED, EXIT_FAILED, EXIT_ERROR = 0, 1, 2
P = ParamSpec("P")
R = TypeVar("R")


def exit_two_on_error(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn client errors into a one-line message and exit code 2 (CI: not a gate failure)."""
    return exit_on_errors(EXIT_ERROR, key_hint=False)(fn)


def parse_target(ref: str) -> dict[str, Any]:
    """Turn NAME@LABEL or NAME:VERSION (bare NAME: @production) into run request fields."""
    name, sep, number = ref.rpartition(":")
    if sep and number.isdigit():
        return {"prompt": name, "version": int(number)}
    if sep:
        fail(f"--prompt {ref!r}: expected NAME@LABEL or NAME:VERSION", code=EXIT_ERROR)
    name, _, label = ref.partition("@")
    return {"prompt": name, "label": label or "production"}


def _suite_name(client: Client, suite: str, *, as_json: bool = False) -> str:
    """Return the suite's name, pushing it first when `suite` is a YAML file."""
    path = Path(suite)
    if path.suffix in (".yaml", ".yml", ".json") or path.is_file():
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            fail(f"cannot read suite file {suite}: {exc.strerror}", code=EXIT_ERROR)
        stored, created = client.push_suite(text)
        state = "stored as" if created else "unchanged,"
        # With --json, stdout carries the run's JSON only (CI pipes it to jq).
        out = err_console if as_json else console
        out.print(f"suite {stored['name']}: {state} version {stored['version']}")
        return str(stored["name"])
    return suite


def _follow(client: Client, run: RunRead, *, quiet: bool) -> dict[str, Any]:
    """Show a run's progress until it finishes; return the finished run's JSON."""
    columns = (
        TextColumn("[bold]run {task.fields[run_id]}[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("errors {task.fields[errors]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True, disable=quiet) as progress:
        task = progress.add_task("run", total=run.total, run_id=run.id, errors=0)
        for event, data in client.run_events(run.id):
            if event == "progress":
                state = RunProgress.model_validate(data)
                progress.update(task, completed=state.completed, errors=state.errors)
            elif event == "done":
                return data
    return client.get_run(run.id)


def _all_items(client: Client, run_id: int) -> list[RunItemRead]:
    items: list[RunItemRead] = []
    while True:
        page = client.run_items(run_id, limit=500, offset=len(items))
        items.extend(RunItemRead.model_validate(item) for item in page["items"])
        if not page["items"] or len(items) >= page["total"]:
            return items


def cost_line(summary: RunSummary) -> str:
    """Return what a run cost: its model calls (and their tokens) and its scoring."""
    model, scoring = summary.cost_usd, summary.scoring_cost_usd or 0.0
    tokens = f"{summary.input_tokens:,} input / {summary.output_tokens:,}"
    return (
        f"cost: ${model + scoring:.6f} = model calls ${model:.6f} ({tokens} output tokens)"
        f" + scoring ${scoring:.6f}"
    )


def _when(run: RunRead) -> str:
    """Return when a run was created, as the API writes it."""
    return str(run.model_dump(mode="json", include={"created_at"})["created_at"])


def _print_summary(summary: RunSummary) -> None:
    console.print(cost_line(summary), markup=False)
    if summary.metrics:
        rows = (
            (name, *(fmt(v) for v in (m.mean, m.p50, m.p95, m.pass_rate, m.error_rate)))
            for name, m in summary.metrics.items()
        )
        print_table(("metric", "mean", "p50", "p95", "pass rate", "error rate"), rows)


def _print_gate(run: RunRead) -> None:
    if run.gate is None:
        return
    if run.gate.conditions:
        rows = (
            (
                f"{c.aggregate}({c.metric})",
                fmt(c.value),
                f"{c.op} {fmt(c.threshold)}",
                "pass" if c.passed else "FAIL",
            )
            for c in run.gate.conditions
        )
        print_table(("gate", "value", "threshold", "result"), rows)
    baseline = run.gate.baseline
    if baseline:
        low, high = baseline.interval or (None, None)
        console.print(
            f"baseline v{run.baseline_version}: {baseline.metric} difference "
            f"{fmt(baseline.difference)} (CI {fmt(low)} .. {fmt(high)}),"
            f" {baseline.outcome}: {baseline.detail}"
        )


def print_run(run: RunRead) -> None:
    """Print a run's summary, gate conditions and verdict as tables."""
    console.print(
        f"run {run.id}: suite {run.suite} v{run.suite_version} on "
        f"{run.prompt} v{run.version} ({run.content_hash[:12]}), dataset "
        f"{run.dataset} v{run.dataset_version}: {run.status}, "
        f"{run.completed} of {run.manifest.counts(run.total)}, {plural(run.errors, 'error')}"
    )
    if run.summary is not None:
        _print_summary(run.summary)
    _print_gate(run)
    if run.error:
        console.print(f"error: {run.error}", markup=False)
    if run.verdict:
        style = {Verdict.PASSED: "green", Verdict.FAILED: "red"}.get(run.verdict, "yellow")
        console.print(f"verdict: [bold {style}]{run.verdict}[/]")


def exit_code(run: RunRead) -> int:
    """Return the CLI exit code for a finished run."""
    if run.status is not RunStatus.COMPLETED:
        return EXIT_ERROR
    return EXIT_PASSED if run.verdict is Verdict.PASSED else EXIT_FAILED


@app.command("run")
@exit_two_on_error
def run_suite(
    suite: Annotated[str, typer.Argument(help="Suite name, or a suite YAML file to push first.")],
    prompt: Annotated[str, typer.Option("--prompt", "-p", help="NAME@LABEL or NAME:VERSION.")],
    baseline_label: Annotated[
        str | None, typer.Option("--baseline-label", help="Label holding the baseline.")
    ] = None,
    junit_file: Annotated[
        Path | None, typer.Option("--junit", help="Write a JUnit XML report here.")
    ] = None,
    concurrency: Annotated[
        int | None,
        typer.Option(min=1, max=256, help="This run only: items in flight (default: the suite's)."),
    ] = None,
    repeats: Annotated[
        int | None,
        typer.Option(
            min=1, max=100, help="This run only: times each item runs (default: suite's)."
        ),
    ] = None,
    wait: Annotated[bool, typer.Option("--wait/--no-wait", help="Follow the run.")] = True,
    url: UrlOption = URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Run a suite on a prompt version, show progress, then the summary and verdict."""
    body = parse_target(prompt)
    with make_client(url, api_key) as client:
        body["suite"] = _suite_name(client, suite, as_json=as_json)
        if baseline_label:
            body["baseline_label"] = baseline_label
        body.update({k: v for k, v in (("concurrency", concurrency), ("repeats", repeats)) if v})
        started = client.start_run(body)
        run = RunRead.model_validate(started)
        if not wait:
            show(started, as_json, lambda _: console.print(f"run {run.id} queued"))
            return
        try:
            finished = _follow(client, run, quiet=as_json)
        except KeyboardInterrupt:
            fail(
                f"stopped following run {run.id}; it goes on on the server "
                f"(`promptlane eval cancel {run.id}` stops it)",
                code=EXIT_ERROR,
            )
        run = RunRead.model_validate(finished)
        items = _all_items(client, run.id) if junit_file else []
    if junit_file:
        junit.write(junit_file, run, items)
    show(finished, as_json, lambda _: print_run(run))
    raise typer.Exit(exit_code(run))


@app.command("show")
@handle_errors
def show_run(
    run_id: Annotated[int, typer.Argument(help="Run id.", min=1)],
    failed: Annotated[
        bool,
        typer.Option(
            "--failed", help="Also each failed item: input, expected, output, scores and reasons."
        ),
    ] = False,
    limit: Annotated[int, typer.Option(min=1, max=500, help="Failed items to show.")] = 20,
    wide: WideOption = False,
    url: UrlOption = URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show a run's status, summary and gate verdict (--failed: why items failed)."""
    with make_client(url, api_key) as client:
        found = client.get_run(run_id)
        page = client.run_items(run_id, failed=True, limit=limit) if failed else None
    if page is None:
        show(found, as_json, lambda _: print_run(RunRead.model_validate(found)))
        return
    items = [RunItemRead.model_validate(item) for item in page["items"]]

    def render(_: object) -> None:
        print_run(RunRead.model_validate(found))
        print_failed_items(items, page["total"], wide=wide)

    shown = {**found, "failed_items": page["items"], "failed_total": page["total"]}
    show(shown, as_json, render)


@app.command("list")
@handle_errors
def list_runs(
    prompt: Annotated[str | None, typer.Option("--prompt", help="Only this prompt.")] = None,
    suite: Annotated[str | None, typer.Option("--suite", help="Only this suite.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=200)] = 20,
    wide: WideOption = False,
    url: UrlOption = URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """List recent runs."""
    with make_client(url, api_key) as client:
        page = client.list_runs(prompt=prompt, suite=suite, limit=limit)
    show(page, as_json, lambda p: _print_runs(p, wide=wide))


def _print_runs(page: dict[str, Any], *, wide: bool = False) -> None:
    rows = (
        (
            str(r.id),
            f"{r.suite} v{r.suite_version}",
            f"{r.prompt} v{r.version}",
            r.status.value,
            r.verdict.value if r.verdict else "-",
            f"{r.completed}/{r.total}",
            _when(r)[:16].replace("T", " "),
        )
        for r in map(RunRead.model_validate, page["items"])
    )
    headers = ("id", "suite", "prompt", "status", "verdict", "results", "created (UTC)")
    print_table(headers, rows, drop=("status", "results"), wide=wide)


@app.command("compare")
@handle_errors
def compare_runs(
    a: Annotated[int, typer.Argument(help="First run id.", min=1)],
    b: Annotated[int, typer.Argument(help="Second run id.", min=1)],
    limit: Annotated[
        int, typer.Option(min=0, max=10_000, help="Changed item scores to list (0: none).")
    ] = 20,
    wide: WideOption = False,
    url: UrlOption = URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Compare two runs: per-metric means, then each changed item score, lowest delta first."""
    with make_client(url, api_key) as client:
        result = client.compare_runs(a, b)
    comparison = RunComparison.model_validate(result)
    show(result, as_json, lambda _: print_comparison(a, b, comparison, limit=limit, wide=wide))


@app.command("cancel")
@handle_errors
def cancel_run(
    run_id: Annotated[int, typer.Argument(help="Run id.", min=1)],
    url: UrlOption = URL,
    api_key: ApiKeyOption = None,
) -> None:
    """Ask a run to stop."""
    with make_client(url, api_key) as client:
        run = RunRead.model_validate(client.cancel_run(run_id))
    console.print(f"run {run_id}: {run.status} (cancel requested)")


@app.command("resume")
@exit_two_on_error
def resume_run(
    run_id: Annotated[int, typer.Argument(help="Run id.", min=1)],
    wait: Annotated[bool, typer.Option("--wait/--no-wait", help="Follow the run.")] = True,
    url: UrlOption = URL,
    api_key: ApiKeyOption = None,
) -> None:
    """Resume a run whose server went away; finished items are kept."""
    with make_client(url, api_key) as client:
        run = RunRead.model_validate(client.resume_run(run_id))
        if not wait:
            console.print(f"run {run_id} queued to resume")
            return
        run = RunRead.model_validate(_follow(client, run, quiet=False))
    print_run(run)
    raise typer.Exit(exit_code(run))
