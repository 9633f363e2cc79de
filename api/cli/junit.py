"""JUnit XML for CI: one test case per gate condition and per dataset item."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def _case(suite: ET.Element, classname: str, name: str, seconds: float = 0.0) -> ET.Element:
    return ET.SubElement(suite, "testcase", classname=classname, name=name, time=f"{seconds:.3f}")


def _gate_cases(suite: ET.Element, run: dict[str, Any]) -> int:
    failures = 0
    gate = run.get("gate") or {}
    classname = f"promptlane.gate.{run['suite']}"
    for c in gate.get("conditions", []):
        case = _case(
            suite, classname, f"{c['aggregate']}({c['metric']}) {c['op']} {c['threshold']}"
        )
        if not c["passed"]:
            failures += 1
            ET.SubElement(case, "failure", message=f"value {c['value']}").text = c.get("detail", "")
    baseline = gate.get("baseline")
    if baseline:
        case = _case(suite, classname, f"baseline {baseline['metric']}")
        if baseline["outcome"] != "passed":
            failures += 1
            ET.SubElement(case, "failure", message=baseline["outcome"]).text = baseline["detail"]
    return failures


def _item_cases(
    suite: ET.Element, run: dict[str, Any], items: Sequence[dict[str, Any]]
) -> tuple[int, int]:
    failures = errors = 0
    classname = f"promptlane.items.{run['suite']}"
    for item in items:
        name = f"item {item['position']} repeat {item['repeat']}"
        case = _case(suite, classname, name, (item.get("latency_ms") or 0) / 1000)
        if item["error"]:
            errors += 1
            ET.SubElement(case, "error", message=item["error"])
            continue
        bad = {k: v for k, v in item["scores"].items() if v.get("passed") is False or "error" in v}
        if bad:
            failures += 1
            message = ", ".join(f"{k}={v.get('value', v.get('error'))}" for k, v in bad.items())
            ET.SubElement(case, "failure", message=message).text = item.get("output") or ""
    return failures, errors


def write(path: Path, run: dict[str, Any], items: Sequence[dict[str, Any]]) -> None:
    """Write the run's gate conditions and items as a JUnit XML test suite."""
    root = ET.Element("testsuites")
    suite = ET.SubElement(
        root, "testsuite", name=f"{run['suite']} on {run['prompt']} v{run['version']}"
    )
    gate_failures = _gate_cases(suite, run)
    item_failures, errors = _item_cases(suite, run, items)
    suite.set("tests", str(len(suite)))
    # JUnit counts <failure> (an assertion: a gate or a score) apart from <error> (the case
    # could not run: the model call or the render failed).
    suite.set("failures", str(gate_failures + item_failures))
    suite.set("errors", str(errors))
    ET.SubElement(suite, "system-out").text = f"run {run['id']}: verdict {run.get('verdict')}"
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
