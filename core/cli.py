"""`python -m core`: the command line. Prints JSON; bad input gets a message and exit code 2."""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import InterfaceError, OperationalError

from core.config import get_settings, overridden
from core.errors import CaseFlowError, DatabaseUnavailable, InvalidInput

Handler = Callable[[argparse.Namespace], Any]


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        _check_acting_user(args)
        if not getattr(args, "migrates", False):
            _check_database()
        result = args.handler(args)
    except CaseFlowError as error:
        return _fail(error.code, error.message)
    except ValidationError as error:  # a setting from the environment is out of range
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in error.errors())
        return _fail("invalid_setting", f"Invalid setting: {problems}")
    except (OperationalError, InterfaceError) as error:  # the database went away while the command ran
        reason = str(error.orig).strip().splitlines()[0] if error.orig is not None else type(error).__name__
        return _fail(DatabaseUnavailable.code, f"The database stopped answering: {reason}")
    if result is not None:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


def _check_acting_user(args: argparse.Namespace) -> None:
    """Commands that act as someone name them: the command line never assumes an account."""
    if getattr(args, "acts_as_user", False) and not args.user:
        raise InvalidInput(f"`{args.command}` acts as a user: pass --user NAME (or set CASEFLOW_USER) to say who. "
                           f"Reading commands (task, tasks, export) need no user.")


def _check_database() -> None:
    from core import service

    service.check_database()


def _fail(code: str, message: str) -> int:
    print(json.dumps({"error": code, "message": message}, ensure_ascii=False), file=sys.stderr)
    return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m core", description="CaseFlow command line.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    db = commands.add_parser("db", help="database schema")
    db.add_argument("action", choices=["upgrade"])
    db.set_defaults(handler=_db, migrates=True)

    commands.add_parser("setup", help="migrate, load the demo data into an empty database, create the first admin"
                        ).set_defaults(handler=_setup, migrates=True)
    commands.add_parser("demo-data", help="load the demo scenes and test cases").set_defaults(handler=_demo_data)

    start = commands.add_parser("start", help="queue a workflow for a test case and a scene")
    start.add_argument("--test-case", type=int, required=True)
    start.add_argument("--scene", required=True)
    start.add_argument("--name")
    start.add_argument("--module")
    start.add_argument("--priority", type=int, default=5, help="0-9, 9 runs first (default 5)")
    _user_option(start)
    start.set_defaults(handler=_start)

    task = commands.add_parser("task", help="show one task")
    task.add_argument("task_id", type=int)
    task.add_argument("--events", action="store_true", help="include the task's timeline")
    task.set_defaults(handler=_task)

    tasks = commands.add_parser("tasks", help="list tasks, newest first")
    tasks.add_argument("--status")
    tasks.add_argument("--owner", help="only tasks launched by this user")
    tasks.add_argument("--search")
    tasks.add_argument("--limit", type=int, default=10)
    tasks.add_argument("--offset", type=int, default=0)
    tasks.set_defaults(handler=_tasks)

    review = commands.add_parser("review", help="approve or reject a task awaiting review")
    review.add_argument("thread_id")
    review.add_argument("--status", required=True, choices=["approved", "rejected"])
    review.add_argument("--body-file", type=Path, help="JSON file: the corrected body (a list of objects)")
    review.add_argument("--feedback")
    review.add_argument("--wait", type=float, default=10.0, help="seconds to wait for the task to settle")
    _user_option(review)
    review.set_defaults(handler=_review)

    for name, handler in (("cancel", _cancel), ("retry", _retry)):
        sub = commands.add_parser(name, help=f"{name} a task")
        sub.add_argument("task_id", type=int)
        _user_option(sub)
        sub.set_defaults(handler=handler)

    worker = commands.add_parser("worker", help="run a worker process until interrupted")
    worker.add_argument("--concurrency", type=int)
    worker.set_defaults(handler=_worker)

    cleanup = commands.add_parser("cleanup", help="apply the retention now")
    cleanup.add_argument("--days", type=int)
    cleanup.add_argument("--dry-run", action="store_true")
    cleanup.set_defaults(handler=_cleanup)

    user = commands.add_parser("create-user", help="add a user")
    user.add_argument("--username", required=True)
    user.add_argument("--role", required=True, choices=["admin", "engineer", "viewer"])
    user.add_argument("--password", help="default: $CASEFLOW_PASSWORD, else prompted")
    user.set_defaults(handler=_create_user)
    _library_commands(commands)
    return parser


def _user_option(parser: argparse.ArgumentParser) -> None:
    """The acting user of a command that writes or runs as someone; required (or $CASEFLOW_USER)."""
    parser.add_argument("--user", default=os.environ.get("CASEFLOW_USER") or None,
                        help="acting user (default: $CASEFLOW_USER); required, no one is assumed")
    parser.set_defaults(acts_as_user=True)


def _db(args: argparse.Namespace) -> dict[str, str]:
    from core import service

    service.upgrade_database()
    return {"database": "upgraded"}


def _setup(args: argparse.Namespace) -> dict[str, Any]:
    from core import service

    return service.setup(os.environ.get("CASEFLOW_ADMIN_PASSWORD"))


def _demo_data(args: argparse.Namespace) -> dict[str, Any]:
    from core import service

    return service.load_demo_data()


def _start(args: argparse.Namespace) -> dict[str, Any]:
    from core import service

    return service.start_workflow(args.test_case, args.scene, name=args.name, module_id=args.module,
                                  priority=args.priority, user=args.user)


def _task(args: argparse.Namespace) -> dict[str, Any]:
    from core import service

    task = service.get_task(args.task_id)
    if args.events:
        task["events"] = service.task_timeline(args.task_id)
    return task


def _tasks(args: argparse.Namespace) -> dict[str, Any]:
    from core import service

    return service.list_tasks(status=args.status, user=args.owner, search=args.search, limit=args.limit,
                              offset=args.offset)


def _review(args: argparse.Namespace) -> dict[str, Any]:
    from core import service

    body = _read_json(args.body_file) if args.body_file else None
    return service.submit_review(args.thread_id, args.status, corrected_body=body, feedback=args.feedback,
                                 reviewer=args.user, wait_seconds=args.wait)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise InvalidInput(f"Cannot read {path}: {error.strerror}.") from None
    except json.JSONDecodeError as error:
        raise InvalidInput(f"{path} is not valid JSON: {error.msg} at line {error.lineno}.") from None


def _cancel(args: argparse.Namespace) -> dict[str, Any]:
    from core import service

    return service.cancel_task(args.task_id, user=args.user)


def _retry(args: argparse.Namespace) -> dict[str, Any]:
    from core import service

    return service.retry_task(args.task_id, user=args.user)


def _worker(args: argparse.Namespace) -> None:
    from core.tasks.worker import Worker  # the runtime this command starts

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    settings = get_settings()
    if args.concurrency is not None:
        try:
            settings = overridden(settings, worker_concurrency=args.concurrency)
        except ValidationError as error:
            raise InvalidInput(f"--concurrency {args.concurrency}: {error.errors()[0]['msg']} "
                               f"(the bounds of WORKER_CONCURRENCY).") from None
    worker = Worker(settings)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    worker.start()
    print(json.dumps({"worker": worker.id, "concurrency": settings.worker_concurrency}), flush=True)
    stop.wait()
    worker.stop(wait=True)


def _cleanup(args: argparse.Namespace) -> dict[str, Any]:
    from core import service

    return service.run_cleanup(user=None, dry_run=args.dry_run, days=args.days)


def _create_user(args: argparse.Namespace) -> dict[str, Any]:
    from core import service

    password = args.password or os.environ.get("CASEFLOW_PASSWORD")
    if password is None:
        if not sys.stdin.isatty():
            raise InvalidInput("No password: pass --password, set CASEFLOW_PASSWORD, or run in a terminal.")
        password = getpass.getpass(f"Password for {args.username}: ")
    actor = service.create_user(args.username, args.role, password)
    return {"id": actor.id, "username": actor.username, "role": actor.role.value}


def _library_commands(commands: Any) -> None:
    """Importing APIs and test cases, exporting and running automation cases."""
    openapi = commands.add_parser("import-openapi", help="import an OpenAPI 3.0/3.1 document: one scene per operation")
    openapi.add_argument("file", type=Path)
    openapi.add_argument("--module", help="module of every scene (default: each operation's first tag)")
    openapi.add_argument("--dry-run", action="store_true", help="report what would change, write nothing")
    _user_option(openapi)
    openapi.set_defaults(handler=_import_openapi)

    cases = commands.add_parser("import-cases", help="import manual test cases from a CSV or XLSX file")
    cases.add_argument("file", type=Path)
    cases.add_argument("--dry-run", action="store_true", help="show the preview with per-row errors, write nothing")
    _user_option(cases)
    cases.set_defaults(handler=_import_cases)

    export = commands.add_parser("export", help="export an automation case as a pytest file or JSON")
    export.add_argument("case_id", help="the case's id or code, e.g. 12 or UC12")
    export.add_argument("--format", required=True, choices=["pytest", "json"])
    export.add_argument("--output", type=Path, default=Path("."), help="file or directory (default: here)")
    export.set_defaults(handler=_export)

    module = commands.add_parser("export-module", help="export every automation case of a module as a zip")
    module.add_argument("module")
    module.add_argument("--output", type=Path, default=Path("."), help="file or directory (default: here)")
    module.set_defaults(handler=_export_module)

    run = commands.add_parser("run-case", help="run an automation case against a base URL and store the run")
    run.add_argument("case_id", help="the case's id or code, e.g. 12 or UC12")
    run.add_argument("--base-url", required=True)
    run.add_argument("--timeout", type=float, default=10.0, help="seconds per request (default 10)")
    _user_option(run)
    run.set_defaults(handler=_run_case)


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise InvalidInput(f"Cannot read {path}: {error.strerror}.") from None


def _case_id(text: str) -> int:
    digits = text.strip().upper().removeprefix("UC")
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 100:  # the service checks the range
        raise InvalidInput(f"{text[:40]!r} is not an automation case id: use a number or a code like UC12.")
    return int(digits)


def _import_openapi(args: argparse.Namespace) -> dict[str, Any]:
    from core import service

    return service.import_openapi(_read_bytes(args.file), args.file.name, user=args.user, module=args.module,
                                  dry_run=args.dry_run)


def _import_cases(args: argparse.Namespace) -> Any:
    from core import service

    data = _read_bytes(args.file)
    if args.dry_run:
        return service.preview_test_cases(data, args.file.name)
    return service.import_test_cases(data, args.file.name, user=args.user)


def _write_export(item: Any, output: Path) -> dict[str, Any]:
    target = output / item.filename if output.is_dir() else output
    try:
        target.write_bytes(item.content)
    except OSError as error:
        raise InvalidInput(f"Cannot write {target}: {error.strerror}.") from None
    return {"file": str(target), "bytes": len(item.content)}


def _export(args: argparse.Namespace) -> dict[str, Any]:
    from core import service

    return _write_export(service.export_case(_case_id(args.case_id), args.format), args.output)


def _export_module(args: argparse.Namespace) -> dict[str, Any]:
    from core import service

    return _write_export(service.export_module(args.module), args.output)


def _run_case(args: argparse.Namespace) -> dict[str, Any]:
    from core import service

    return service.run_case(_case_id(args.case_id), args.base_url, user=args.user, timeout=args.timeout,
                            token=os.environ.get(service.RUN_TOKEN_VARIABLE) or None)
