"""The CLI reads run reports through their typed models: same output, one-line errors."""

from __future__ import annotations

from typing import Any

import pytest
import typer
from rich.console import Console

from api.cli import _common
from api.cli import evals as cli
from evals.reports import RunRead

MANIFEST = {
    "prompt": {"name": "p", "version": 3, "content_hash": "a" * 64},
    "baseline": {"name": "p", "version": 1, "content_hash": "f" * 64},
    "suite": {"name": "s", "version": 2, "content_hash": "b" * 64},
    "dataset": {"name": "d", "version": 1, "content_hash": "c" * 64},
    "scorers": [{"name": "correct", "type": "exact_match", "params_hash": "d" * 64}],
    "judges": {},
}


def answer(**fields: Any) -> dict[str, Any]:
    """Return a run as the server answers it."""
    run = {
        "id": 7,
        "suite": "s",
        "suite_version": 2,
        "prompt": "p",
        "version": 3,
        "content_hash": "a" * 64,
        "label": None,
        "baseline_version": 1,
        "dataset": "d",
        "dataset_version": 1,
        "status": "completed",
        "verdict": "failed",
        "total": 4,
        "completed": 4,
        "errors": 1,
        "summary": None,
        "gate": None,
        "manifest": MANIFEST,
        "manifest_hash": "e" * 64,
        "error": None,
        "created_by": "tests",
        "created_at": "2026-12-05T06:24:47.123456Z",
        "started_at": None,
        "finished_at": None,
    }
    return {**run, **fields}


SUMMARY = {
    "items": 4,
    "errors": 1,
    "metrics": {
        "correct": {"mean": 0.75, "p50": 1.0, "p95": 1.0, "pass_rate": 0.75, "error_rate": 0.25}
    },
    "cost_usd": 0.00123,
    "input_tokens": 1234,
    "output_tokens": 56,
    "cached": 0,
}
GATE = {
    "conditions": [
        {
            "metric": "correct",
            "aggregate": "mean",
            "op": ">=",
            "threshold": 0.9,
            "value": 0.75,
            "passed": False,
        }
    ],
    "baseline": {
        "metric": "correct",
        "max_regression": 0.05,
        "confidence": 0.95,
        "items": 4,
        "difference": -0.25,
        "interval": [-0.5, 0.0],
        "outcome": "inconclusive",
        "detail": "straddles",
    },
    "verdict": "failed",
}


def printed(run: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> str:
    console = Console(record=True, width=200, highlight=False)
    monkeypatch.setattr(cli, "console", console)
    monkeypatch.setattr(_common, "console", console)  # tables print through the shared one
    cli.print_run(RunRead.model_validate(run))
    return console.export_text()


def test_a_finished_run_prints_its_summary_gate_and_verdict(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = printed(answer(summary=SUMMARY, gate=GATE), monkeypatch)
    lines = [" ".join(line.replace("│", " ").split()) for line in text.splitlines()]
    assert lines[0] == (
        "run 7: suite s v2 on p v3 (aaaaaaaaaaaa), dataset d v1: completed, 4 of 4 results, 1 error"
    )
    assert lines[1] == (
        "cost: $0.001230 = model calls $0.001230 (1,234 input / 56 output tokens) + scoring "
        "$0.000000"
    )
    assert "correct 0.75 1 1 0.75 0.25" in lines
    assert "mean(correct) 0.75 >= 0.9 FAIL" in lines
    assert "baseline v1: correct difference -0.25 (CI -0.5 .. 0), inconclusive: straddles" in lines
    assert lines[-1] == "verdict: failed"
    assert cli.exit_code(RunRead.model_validate(answer())) == cli.EXIT_FAILED


def test_an_older_servers_empty_reports_read_as_none(monkeypatch: pytest.MonkeyPatch) -> None:
    run = answer(status="failed", verdict=None, summary={}, gate={}, error="boom")
    typed = RunRead.model_validate(run)
    assert (typed.summary, typed.gate) == (None, None)
    lines = printed(run, monkeypatch).splitlines()
    assert lines[1:] == ["error: boom"]
    assert cli.exit_code(typed) == cli.EXIT_ERROR


def test_an_answer_outside_the_contract_is_a_one_line_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    broken = answer(summary={"items": 4}, gate=GATE)

    @cli.exit_two_on_error
    def show() -> None:
        RunRead.model_validate(broken)

    with pytest.raises(typer.Exit) as exited:
        show()
    assert exited.value.exit_code == cli.EXIT_ERROR
    error = capsys.readouterr().err.strip()
    assert error.startswith("error: unexpected answer from the server (RunRead at summary.errors")
    assert len(error.splitlines()) == 1
