"""The Grafana dashboard and Prometheus config under deploy/ match the metrics /metrics serves."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tracing.metrics import Metrics

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
DASHBOARD = DEPLOY / "grafana" / "promptlane-dashboard.json"
# A metric reference in PromQL: a name followed by a selector or a range.
_METRIC = re.compile(r"\b((?:gen_ai|promptlane)_[a-z0-9_]+)\s*[{\[]")
_BY = re.compile(r"\bby\s*\(([^)]*)\)")
_SELECTOR = re.compile(r"\b((?:gen_ai|promptlane)_[a-z0-9_]+)\{([^}]*)\}")


def _exprs(dashboard: dict[str, Any]) -> list[str]:
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    exprs += [v["definition"] for v in dashboard["templating"]["list"] if "definition" in v]
    return exprs


@pytest.fixture(scope="module")
def series() -> dict[str, set[str]]:
    """Return every sample name /metrics serves (one of each recorded) and its labels."""
    metrics = Metrics()
    labels = metrics.prompt_labels("openai/gpt-4o-mini", "support/triage", 2, "production")
    metrics.record_call(
        labels, duration_s=0.3, input_tokens=10, output_tokens=4, cost_usd=0.01, error_type=None
    )
    metrics.record_score(labels, "accuracy", 0.8)
    metrics.record_flag(labels, "pii")
    metrics.fetches.hits[("support/triage", "production", None)] = 1
    metrics.dropped_spans.inc()
    metrics.online_eval_skipped.inc()
    metrics.record_dropped(source="gateway", reason="DataError")
    out: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(metrics.exposition().decode()):
        for sample in family.samples:
            out.setdefault(sample.name, set()).update(sample.labels)
    return out


def test_every_dashboard_query_uses_served_metrics_and_labels(
    series: dict[str, set[str]],
) -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = _exprs(dashboard)
    referenced = {name for expr in exprs for name in _METRIC.findall(expr)}
    assert referenced, "the dashboard queries no promptlane metric"
    assert referenced <= series.keys(), f"unknown metrics: {sorted(referenced - series.keys())}"
    for expr in exprs:
        names = _METRIC.findall(expr)
        known = set.union(*(series[n] for n in names)) | {"le"} if names else set()
        grouped = {g.strip() for by in _BY.findall(expr) for g in by.split(",") if g.strip()}
        assert grouped <= known, f"{expr}: unknown labels {sorted(grouped - known)}"
        for name, selector in _SELECTOR.findall(expr):
            used = {m.split("=")[0].rstrip("!~").strip() for m in selector.split(",")}
            assert used <= series[name], f"{expr}: {name} has no label {sorted(used)}"


def test_dashboard_panels_have_unique_ids_and_use_the_datasource_variable() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    variables = {v["name"] for v in dashboard["templating"]["list"]}
    assert {"datasource", "prompt", "version"} <= variables
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            assert target["datasource"]["uid"] == "${datasource}", panel["title"]


def test_prometheus_config_scrapes_the_metrics_route() -> None:
    from api.server.app import create_app
    from api.settings import Settings

    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    (job,) = config["scrape_configs"]
    paths = create_app(Settings(database_url="sqlite://")).openapi()["paths"]
    assert job["metrics_path"] in paths
    assert job["static_configs"][0]["targets"] == ["127.0.0.1:8000"]
