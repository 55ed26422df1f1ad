"""The quality figures as a markdown section: docs/performance.md gets it from bench/report.py."""

from __future__ import annotations

from typing import Any

TARGET_POSITIVE = 95.0
TARGET_INVALID = 95.0
TARGET_VALID_ROWS = 3.0

INTRO = """\
## Generated cases against real API servers

`bench/quality/` (`python -m bench.quality [--servers kinto,airflow,prefect,prism] [--providers offline,openai]
[--quick]`, also `make quality`, and part of `make bench`): real open-source API servers installed from the
package registries into `~/.cache/caseflow-quality/` (reused when present), each started on a free loopback
port with throwaway storage, its OpenAPI document imported through `core.service.import_openapi` into a fresh
SQLite database. Every operation with a JSON request body gets a manual test case written from its summary
and documented responses, a task, and an approval of the generated rows *unchanged*; each automation case
is then run twice with `core.service.run_case`. A fresh server per provider. **offline** is the built-in
provider; **openai** is the OpenAI-compatible provider against `testing/fake_openai.py`, which answers as
the offline provider would, so its figures measure the provider's plumbing, not a model.

*valid+boundary 2xx* is the share of valid and boundary rows the server accepted; *invalid 4xx* the
share of invalid rows it rejected; *agreement* the share of rows whose pass/fail on run 2 equals run 1;
*checks passed* counts every check of every row (the status check included), run 1. Targets of issue 9:
valid+boundary 2xx >= 95 %, invalid 4xx >= 95 %, run 2 as good as run 1, >= 3 valid rows per operation.
"""


def section(quality: dict[str, Any] | None, examples: int = 1) -> str:
    """The whole section; ``examples`` per failure cause and server (offline provider)."""
    if not quality:
        return ""
    results = quality["results"]
    measured = [item for item in results if "skipped" not in item]
    parts = [INTRO, _apart(quality), _servers(results), _figures(measured), _beyond(measured)]
    if measured:
        parts += [_causes(measured), _invalid_accepted(measured), _server_errors(measured),
                  _examples(measured, examples)]
    return "\n".join(part for part in parts if part)


def _apart(quality: dict[str, Any]) -> str:
    """Where the figures come from when `python -m bench --quality-from` took them from a separate run."""
    if not quality.get("measured_apart"):
        return ""
    runs = ", ".join(f"{item['server']} with {item['provider']}" for item in quality["results"])
    return (f"These figures come from a separate `python -m bench.quality` run ({quality.get('date', '?')}, code "
            f"`{quality.get('code', '?')}`, {quality['seconds'] / 60:.0f} min), not from the run above: {runs}. "
            "`python -m bench --render <results>.json --quality-from <quality results>.json` writes the page "
            "that way.\n")


def _pct(ratio: dict[str, Any] | None) -> str:
    if not ratio or ratio.get("pct") is None:
        return "-"
    return f"{ratio['pct']:.1f} % ({ratio['n']}/{ratio['of']})"


def _servers(results: list[dict[str, Any]]) -> str:
    rows, seen = [], set()
    for item in results:
        if item["server"] in seen:
            continue
        seen.add(item["server"])
        if "skipped" in item:
            rows.append([item["server"], "-", "-", "-", "-", "-", f"**skipped**: {item['skipped']}", "-"])
            continue
        facts, document = item["facts"], item["document"]
        installed = f"{facts.get('install_seconds', 0):.0f} s" + (" (cached)" if facts.get("reused") else "")
        converted = f", converted by {document['converted_by']}" if document.get("converted_by") else ""
        rows.append([item["server"], facts.get("style", ""), facts.get("package", ""), installed,
                     f"{facts.get('start_seconds', 0):.0f} s", f"{document['format']}{converted}",
                     facts.get("auth", ""), facts.get("config", "")])
    return "### Servers\n\n" + _table(["server", "style", "installed", "install time", "start time", "document",
                                       "auth sent", "configured"], rows)


def _figures(measured: list[dict[str, Any]]) -> str:
    rows = []
    for item in measured:
        first, second = item["runs"][0], item["runs"][-1]
        per = item["rows_per_operation"]
        count = len(item["failed_tasks"])
        failed = f" ({count} task{'s' if count > 1 else ''} failed)" if count else ""
        rows.append([
            item["server"], item["provider"], f"{item['cases']}/{item['operations']}{failed}",
            f"{per['valid']:.1f} / {per['boundary']:.1f} / {per['invalid']:.1f}",
            _pct(first["positive_2xx"]), _pct(first["invalid_4xx"]), _pct(item["agreement"]),
            _pct(second["positive_2xx"]), _pct(second["valid_2xx"]), _pct(first["checks_passed"]),
            str(item["server_errors"]["count"]), _pct(item["without_path_parameters"]["positive_2xx"]),
            _pct(item.get("self_flagged")),
        ])
    return (
        "### Figures\n\n"
        "*operations* is cases completed / operations with a JSON body; *rows per operation* is valid / boundary / "
        "invalid; *5xx* counts answers over both runs; *no path parameter* is valid+boundary 2xx on run 1 for the "
        "operations whose path has no parameter; *self-flagged* is the share of valid and boundary rows whose body "
        "CaseFlow's own schema validation rejects (- where the run predates that check).\n\n"
        + _table(["server", "provider", "operations", "rows per operation", "valid+boundary 2xx", "invalid 4xx",
                  "agreement run 2", "valid+boundary 2xx run 2", "valid 2xx run 2", "checks passed", "5xx",
                  "valid+boundary 2xx, no path parameter", "self-flagged"], rows)
        + _verdicts(measured)
    )


def _beyond(measured: list[dict[str, Any]]) -> str:
    """Issue 14's figures: operations that need a resource first, the coverage map, learning from reviews."""
    rows = []
    for item in measured:
        coverage, rounds = item.get("coverage"), item.get("learning") or []
        learnt = " → ".join(f"{r['unedited']}/{r['tasks']}" for r in rounds) or "-"
        rows.append([item["server"], item["provider"], _pct((item.get("with_setup") or {}).get("positive_2xx")),
                     f"{coverage['covered']}/{coverage['cells']} ({coverage['failing']} failing)" if coverage else "-",
                     learnt])
    if not rows:
        return ""
    return ("### Setup chains, coverage and learning from reviews\n\n"
            "*with setup* is valid+boundary 2xx on run 1 for the operations whose case sends setup steps first "
            "(a resource its path or body names); *coverage* is the module's coverage map: cells (operation × "
            "documented status, operation × constraint keyword) with an approved row, and those with a row that "
            "failed its last run; *approved without edits* (`--learning`, sandbox providers) is two more rounds of "
            "tasks on the same test cases, each reviewed by a reviewer who removes the rows the sandbox "
            "contradicted: tasks approved without edits in round 1 → round 2, after round 1's reviews taught the "
            "scenes.\n\n"
            + _table(["server", "provider", "with setup", "coverage", "approved without edits"], rows))


def _verdicts(measured: list[dict[str, Any]]) -> str:
    lines = []
    for item in measured:
        if item["provider"] != "offline":
            continue
        first, second = item["runs"][0], item["runs"][-1]
        misses = []
        if (first["positive_2xx"]["pct"] or 0) < TARGET_POSITIVE:
            misses.append(f"valid+boundary 2xx {first['positive_2xx']['pct']} % < {TARGET_POSITIVE:.0f} %")
        if (first["invalid_4xx"]["pct"] or 0) < TARGET_INVALID:
            misses.append(f"invalid 4xx {first['invalid_4xx']['pct']} % < {TARGET_INVALID:.0f} %")
        if (second["positive_2xx"]["pct"] or 0) < (first["positive_2xx"]["pct"] or 0):
            misses.append(f"run 2 accepts {second['positive_2xx']['pct']} % against {first['positive_2xx']['pct']} %")
        if item["rows_per_operation"]["valid"] < TARGET_VALID_ROWS:
            misses.append(f"{item['rows_per_operation']['valid']} valid rows per operation < {TARGET_VALID_ROWS:.0f}")
        drift = item["drift"]
        drifted = (f"; {drift['count']} accepted rows answered another 2xx than documented "
                   f"({', '.join(f'{pair}: {n}' for pair, n in drift['pairs'].items())})" if drift["count"] else "")
        lines.append(f"- **{item['server']}** (offline): "
                     + ("meets the targets" if not misses else "misses " + "; ".join(misses)) + drifted + ".")
    return ("\n" + "\n".join(lines) + "\n") if lines else ""


def _causes(measured: list[dict[str, Any]]) -> str:
    rows = []
    for item in measured:
        first, second = item["causes"].get("1", {}), item["causes"].get("2", {})
        for cause in dict.fromkeys([*first, *second]):
            a, b = first.get(cause, {}), second.get(cause, {})
            rows.append([item["server"], item["provider"], cause, str(a.get("count", 0)), str(b.get("count", 0)),
                         str(max(a.get("operations", 0), b.get("operations", 0)))])
    if not rows:
        return ""
    return ("### Why valid and boundary rows were refused\n\n"
            "Each valid or boundary row answered 4xx, by the cause its status and error message show.\n\n"
            + _table(["server", "provider", "cause", "rows, run 1", "rows, run 2", "operations"], rows))


def _invalid_accepted(measured: list[dict[str, Any]]) -> str:
    rows = [[item["server"], item["provider"], keyword, str(entry["count"])]
            for item in measured for keyword, entry in item["invalid_accepted"].items()]
    if not rows:
        return ""
    return ("### Invalid rows the servers accepted\n\nInvalid rows answered 2xx on run 1, by the keyword they "
            "broke.\n\n" + _table(["server", "provider", "keyword targeted", "rows"], rows))


def _server_errors(measured: list[dict[str, Any]]) -> str:
    rows = [[item["server"], item["provider"], operation, str(count)]
            for item in measured for operation, count in item["server_errors"]["by_operation"].items()]
    if not rows:
        return ""
    return "### 5xx answers\n\n" + _table(["server", "provider", "operation", "answers (both runs)"], rows)


def _examples(measured: list[dict[str, Any]], per_cause: int) -> str:
    if per_cause <= 0:
        return ""
    lines = []
    for item in measured:
        if item["provider"] != "offline":
            continue
        groups = [(f"refused: {cause}", entry) for cause, entry in item["causes"].get("1", {}).items()]
        groups += [(f"refused on run 2 only: {cause}", entry) for cause, entry in item["causes"].get("2", {}).items()
                   if cause not in item["causes"].get("1", {})]
        groups += [(f"accepted invalid: {keyword}", entry) for keyword, entry in item["invalid_accepted"].items()]
        groups += [("5xx", item["server_errors"])] if item["server_errors"]["count"] else []
        for title, entry in groups:
            for example in entry["examples"][:per_cause]:
                lines.append(f"- {item['server']}, {title}: `{example['method']} {example['url']}` "
                             f"({example['operation']}), row `{example['row']}` ({example['kind']}, run "
                             f"{example['run']}), body `{_code(example['body'])}` -> **{example['status']}** "
                             f"`{_code(example['answer'])}`")
    return ("### Examples\n\n" + "\n".join(lines) + "\n") if lines else ""


def _code(text: str) -> str:
    return text.replace("`", "'").replace("|", "\\|")


def _table(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"
