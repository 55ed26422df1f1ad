"""The Grafana dashboard and the alert rules name only metrics that CaseFlow exports."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from core.tasks import telemetry

ROOT = Path(__file__).resolve().parents[2]
NAME = re.compile(r"\bcaseflow_[a-z_]+")
SUFFIXES = ("_total", "_bucket", "_count", "_sum")


def _exported() -> set[str]:
    """Every family name: the process metrics' (counters without _total) and the database gauges."""
    process = {family.name for metric in telemetry.PROCESS_METRICS for family in metric.describe()}
    return process | set(telemetry.DATABASE_GAUGES)


def _base(name: str) -> str:
    return next((name.removesuffix(s) for s in SUFFIXES if name.endswith(s)), name)


def test_alert_rules_use_exported_metrics() -> None:
    rules = yaml.safe_load((ROOT / "deploy/prometheus/alerts.yml").read_text())["groups"][0]["rules"]
    used = {_base(name) for rule in rules for name in NAME.findall(rule["expr"])}
    assert used and used <= _exported(), used - _exported()


def test_the_dashboard_uses_exported_metrics() -> None:
    dashboard = json.loads((ROOT / "deploy/grafana/caseflow.json").read_text())
    used = {_base(name) for panel in dashboard["panels"] for target in panel["targets"]
            for name in NAME.findall(target["expr"])}
    assert used and used <= _exported(), used - _exported()
