"""JUnit XML for CI: one test case per gate condition and per dataset item.

An item's case is named by its `metadata.id` when it has one (CI tracks a test's history by
its name, and positions shift when a dataset changes), else `item N`; ` repeat R` follows when
the run repeats items. A failure says which scores failed and why; its text, and an error's,
hold the item's input, expected value and output, as `eval show --failed` prints them.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from api.cli.run_report import item_fields, score_lines
from evals.reports import RunItemRead, RunRead, Verdict

# Characters XML 1.0 cannot hold at all (model output may have them: NUL, ESC, ...).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml(text: str) -> str:
    """Return `text` with each character XML cannot hold written as a hex escape."""
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


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


def _names(run: RunRead, items: Sequence[RunItemRead]) -> list[str]:
    """Return each item's case name; an id two dataset items share gets the position too."""
    positions: defaultdict[str, set[int]] = defaultdict(set)
    for item in items:
        if item.item_id:
            positions[item.item_id].add(item.position)
    repeated = (run.manifest.repeats or 1) > 1 or any(item.repeat for item in items)
    names = []
    for item in items:
        name = item.label()
        if item.item_id and len(positions[item.item_id]) > 1:
            name = f"{item.item_id} (item {item.position})"
        names.append(f"{name} repeat {item.repeat}" if repeated else name)
    return names


def _details(item: RunItemRead) -> str:
    """Return the item's fields, one per line, in full."""
    return _xml("\n".join(f"{name}: {text}" for name, text in item_fields(item, wide=True)))


def _item_cases(suite: ET.Element, run: RunRead, items: Sequence[RunItemRead]) -> tuple[int, int]:
    failures = errors = 0
    classname = f"promptlane.items.{run.suite}"
    for item, name in zip(items, _names(run, items), strict=True):
        case = _case(suite, classname, _xml(name), (item.latency_ms or 0) / 1000)
        if item.error:
            errors += 1
            ET.SubElement(case, "error", message=_xml(item.error)).text = _details(item)
            continue
        failed = score_lines(item)
        if failed:
            failures += 1
            message = "; ".join(f"{metric}: {text}" for metric, text in failed)
            ET.SubElement(case, "failure", message=_xml(message)).text = _details(item)
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
