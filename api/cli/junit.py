"""JUnit XML for CI: one test case per gate condition and per dataset item."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from evals.reports import RunItemRead, RunRead, ScoreEntry, Verdict


def _case(suite: ET.Element, classname: str, name: str, seconds: float = 0.0) -> ET.Element:
    return ET.SubElement(suite, "testcase", classname=classname, name=name, time=f"{seconds:.3f}")


def _gate_cases(suite: ET.Element, run: RunRead) -> int:
    failures = 0
    classname = f"promptlane.gate.{run.suite}"
    if run.gate is None:
        return failures
    for c in run.gate.conditions:
        case = _case(suite, classname, f"{c.aggregate}({c.metric}) {c.op} {c.threshold}")
        if not c.passed:
            failures += 1
            ET.SubElement(case, "failure", message=f"value {c.value}").text = c.detail or ""
    baseline = run.gate.baseline
    if baseline:
        case = _case(suite, classname, f"baseline {baseline.metric}")
        if baseline.outcome is not Verdict.PASSED:
            failures += 1
            ET.SubElement(case, "failure", message=baseline.outcome).text = baseline.detail
    return failures


def _failure_message(item: RunItemRead) -> str:
    return ", ".join(
        f"{name}={score.value if isinstance(score, ScoreEntry) else score.error}"
        for name, score in item.failed_scores().items()
    )


def _item_cases(suite: ET.Element, run: RunRead, items: Sequence[RunItemRead]) -> tuple[int, int]:
    failures = errors = 0
    classname = f"promptlane.items.{run.suite}"
    for item in items:
        name = f"item {item.position} repeat {item.repeat}"
        case = _case(suite, classname, name, (item.latency_ms or 0) / 1000)
        if item.error:
            errors += 1
            ET.SubElement(case, "error", message=item.error)
            continue
        message = _failure_message(item)
        if message:
            failures += 1
            ET.SubElement(case, "failure", message=message).text = item.output or ""
    return failures, errors


def write(path: Path, run: RunRead, items: Sequence[RunItemRead]) -> None:
    """Write the run's gate conditions and items as a JUnit XML test suite."""
    root = ET.Element("testsuites")
    suite = ET.SubElement(root, "testsuite", name=f"{run.suite} on {run.prompt} v{run.version}")
    gate_failures = _gate_cases(suite, run)
    item_failures, errors = _item_cases(suite, run, items)
    suite.set("tests", str(len(suite)))
    # JUnit counts <failure> (an assertion: a gate or a score) apart from <error> (the case
    # could not run: the model call or the render failed).
    suite.set("failures", str(gate_failures + item_failures))
    suite.set("errors", str(errors))
    ET.SubElement(suite, "system-out").text = f"run {run.id}: verdict {run.verdict}"
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
