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

from core.config import Settings, get_settings, overridden
from core.errors import CaseFlowError, DatabaseUnavailable, InvalidInput

Handler = Callable[[argparse.Namespace], Any]


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        _check_acting_user(args)
        if not (getattr(args, "migrates", False) or getattr(args, "offline", False)):
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
    review.add_argument("--setup-file", type=Path,
                        help="JSON file: the corrected setup steps sent before each row (interrupt_data.setup)")
    review.add_argument("--feedback")
    review.add_argument("--wait", type=float, default=10.0, help="seconds to wait for the task to settle (0-600)")
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

    celery = commands.add_parser("celery-worker", help="run a Celery worker (TASK_EXECUTOR=celery, REDIS_URL)")
    celery.add_argument("--concurrency", type=int)
    celery.set_defaults(handler=_celery_worker)

    queue = commands.add_parser("queue", help="pause or resume the queue, or show it")
    queue.add_argument("action", choices=["pause", "resume", "status"])
    queue.set_defaults(handler=_queue)

    cleanup = commands.add_parser("cleanup", help="apply the retention now")
    cleanup.add_argument("--days", type=int)
    cleanup.add_argument("--dry-run", action="store_true")
    cleanup.set_defaults(handler=_cleanup)

    api = commands.add_parser("api", help="serve the HTTP API and WebSocket (docs at /docs) until interrupted")
    api.add_argument("--host", default="127.0.0.1", help="default 127.0.0.1 (this machine only)")
    api.add_argument("--port", type=int, default=8000, help="default 8000")
    api.set_defaults(handler=_api)

    token = commands.add_parser("api-token", help="create an API token for a user (shown once)")
    token.add_argument("--username", required=True)
    token.add_argument("--name", help="a label telling this token from the user's others")
    token.set_defaults(handler=_api_token)
    _webhook_commands(commands)
    _review_desk_commands(commands)
    commands.add_parser("secret-key", help="print a new key for CASEFLOW_SECRET_KEY (encrypts webhook secrets)"
                        ).set_defaults(handler=_secret_key, offline=True)

    user = commands.add_parser("create-user", help="add a user")
    user.add_argument("--username", required=True)
    user.add_argument("--role", required=True, choices=["admin", "engineer", "viewer"])
    user.add_argument("--password", help="default: $CASEFLOW_PASSWORD, else prompted")
    user.set_defaults(handler=_create_user)
    _library_commands(commands)
    _environment_commands(commands)
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

    body = _read_json(args.body_file, service.MAX_REVIEW_BODY_BYTES) if args.body_file else None
    setup = _read_json(args.setup_file, service.MAX_REVIEW_BODY_BYTES) if args.setup_file else None
    return service.submit_review(args.thread_id, args.status, corrected_body=body, feedback=args.feedback,
                                 reviewer=args.user, wait_seconds=args.wait, corrected_setup=setup)


def _read_json(path: Path, max_bytes: int) -> Any:
    """The JSON value in the file at ``path``: UTF-8, at most ``max_bytes``, nested no deeper than Python parses."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise InvalidInput(f"{path} has {size:,} bytes; at most {max_bytes:,} are allowed.")
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise InvalidInput(f"Cannot read {path}: {error.strerror}.") from None
    except UnicodeDecodeError:
        raise InvalidInput(f"{path} is not UTF-8 text: save it as UTF-8.") from None
    except json.JSONDecodeError as error:
        raise InvalidInput(f"{path} is not valid JSON: {error.msg} at line {error.lineno}.") from None
    except RecursionError:
        raise InvalidInput(f"{path} is nested too deeply to read.") from None
    except ValueError:  # json.loads refuses integers of more than 4300 digits
        raise InvalidInput(f"{path} holds a number too long to read.") from None


def _cancel(args: argparse.Namespace) -> dict[str, Any]:
    from core import service

    return service.cancel_task(args.task_id, user=args.user)


def _retry(args: argparse.Namespace) -> dict[str, Any]:
    from core import service

    return service.retry_task(args.task_id, user=args.user)


def _worker_settings(args: argparse.Namespace) -> Settings:
    """The settings of a worker process, with --concurrency applied; logging set up."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("apscheduler", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    settings = get_settings()
    if args.concurrency is not None:
        try:
            settings = overridden(settings, worker_concurrency=args.concurrency)
        except ValidationError as error:
            raise InvalidInput(f"--concurrency {args.concurrency}: {error.errors()[0]['msg']} "
                               f"(the bounds of WORKER_CONCURRENCY).") from None
    return settings


def _celery_worker(args: argparse.Namespace) -> None:
    from core.tasks import celery_executor  # the runtime this command starts

    celery_executor.run_worker(_worker_settings(args))


def _worker(args: argparse.Namespace) -> None:
    from core.tasks.worker import Worker, serve_metrics  # the runtime this command starts

    settings = _worker_settings(args)
    worker = Worker(settings)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    worker.start()
    serve_metrics(settings, embedded=False)
    print(json.dumps({"worker": worker.id, "concurrency": settings.worker_concurrency}), flush=True)
    stop.wait()
    worker.stop(wait=True)


def _api(args: argparse.Namespace) -> None:
    if not 1 <= args.port <= 65535:
        raise InvalidInput("--port must be from 1 to 65535.")
    from core.api.server import serve  # the runtime this command starts

    serve(args.host, args.port)


def _api_token(args: argparse.Namespace) -> dict[str, str]:
    from core import service

    return {"token": service.create_api_token(args.username, name=args.name)["token"]}


def _secret_key(args: argparse.Namespace) -> dict[str, str]:
    from core import service

    return {"key": service.new_secret_key()}


def _review_desk_commands(commands: Any) -> None:
    """The review desk: the queue with its filters, who is reviewing, assignments (claims never block a review)."""
    desk = commands.add_parser("review-desk", help="the review queue, who is reviewing a task, assignments")
    actions = desk.add_subparsers(dest="action", required=True, metavar="ACTION")
    queue = actions.add_parser("queue", help="tasks awaiting review, the longest-waiting first")
    queue.add_argument("--mine", action="store_true", help="only the reviews assigned to the acting user")
    queue.add_argument("--module")
    queue.add_argument("--min-wait-hours", type=float, help="only reviews waiting at least this long")
    queue.add_argument("--limit", type=int, default=50)
    queue.add_argument("--user", default=os.environ.get("CASEFLOW_USER") or None, help="whose reviews --mine means")
    queue.set_defaults(handler=_review_desk_queue)
    claim = actions.add_parser("claim", help="say you are reviewing a task now (lapses after REVIEW_CLAIM_MINUTES)")
    claim.add_argument("task_id", type=int)
    claim.add_argument("--take-over", action="store_true", help="take it from whoever is reviewing it")
    _user_option(claim)
    claim.set_defaults(handler=lambda args: _service().claim_review(args.task_id, user=args.user,
                                                                    take_over=args.take_over))
    assign = actions.add_parser("assign", help="ask a user to review a task (admins); they are notified")
    assign.add_argument("task_id", type=int)
    who = assign.add_mutually_exclusive_group(required=True)
    who.add_argument("--assignee")
    who.add_argument("--nobody", action="store_true", help="remove the assignment")
    _user_option(assign)
    assign.set_defaults(handler=lambda args: {"assignment": _service().assign_review(
        args.task_id, None if args.nobody else args.assignee, user=args.user)})


def _service() -> Any:
    from core import service

    return service


def _review_desk_queue(args: argparse.Namespace) -> dict[str, Any]:
    hours = args.min_wait_hours
    return _service().review_queue(user=args.user, mine=args.mine, module=args.module, limit=args.limit,
                                   min_wait_seconds=None if hours is None else hours * 3600)


def _webhook_commands(commands: Any) -> None:
    """Webhooks: add, list, remove, and their delivery log."""
    webhook = commands.add_parser("webhook", help="tell a URL or a chat group when tasks need review, fail or complete")
    actions = webhook.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="add a webhook; a generic one's generated secret is shown once")
    add.add_argument("--url", required=True)
    add.add_argument("--kind", default="generic", help="generic (signed JSON), wecom, dingtalk, feishu or slack")
    add.add_argument("--events", help="comma-separated: need_review,failed,completed,review_reminder (default: all)")
    scope = add.add_mutually_exclusive_group()
    scope.add_argument("--owner", help="report this user's tasks (default: the acting user's)")
    scope.add_argument("--module", help="report every task of this module (admins)")
    add.add_argument("--name")
    add.add_argument("--secret-env", metavar="VAR",
                     help="environment variable holding the signing secret (generic: default generated)")
    _user_option(add)
    add.set_defaults(handler=_webhook_add)
    listing = actions.add_parser("list", help="webhooks, URLs masked")
    _user_option(listing)
    listing.set_defaults(handler=_webhook_list)
    remove = actions.add_parser("remove", help="remove a webhook and its delivery log")
    remove.add_argument("webhook_id", type=int)
    _user_option(remove)
    remove.set_defaults(handler=_webhook_remove)
    log = actions.add_parser("log", help="the delivery log, newest first")
    log.add_argument("--webhook", type=int, dest="webhook_id")
    log.add_argument("--limit", type=int, default=20)
    _user_option(log)
    log.set_defaults(handler=_webhook_log)


def _webhook_add(args: argparse.Namespace) -> dict[str, Any]:
    from core import service

    secret = None
    if args.secret_env:
        secret = os.environ.get(args.secret_env)
        if not secret:
            raise InvalidInput(f"${args.secret_env} is not set.")
    events = [name.strip() for name in args.events.split(",") if name.strip()] if args.events is not None else None
    return service.add_webhook(args.url, kind=args.kind, events=events, name=args.name, secret=secret,
                               owner=args.owner, module=args.module, user=args.user)


def _webhook_list(args: argparse.Namespace) -> list[dict[str, Any]]:
    from core import service

    return service.list_webhooks(user=args.user)


def _webhook_remove(args: argparse.Namespace) -> dict[str, Any]:
    from core import service

    return service.remove_webhook(args.webhook_id, user=args.user)


def _webhook_log(args: argparse.Namespace) -> dict[str, Any]:
    from core import service

    return service.webhook_deliveries(user=args.user, webhook_id=args.webhook_id, limit=args.limit)


def _queue(args: argparse.Namespace) -> dict[str, Any]:
    from core import service

    actions = {"pause": service.pause_queue, "resume": service.resume_queue, "status": service.queue_status}
    return actions[args.action](user=None)


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
    openapi.add_argument("--dry-run", action="store_true", help="report what would change and the automation cases "
                                                                 "it breaks (impact), write nothing")
    openapi.add_argument("--regenerate", action="store_true",
                         help="after the import, start a task for every automation case it broke")
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

    run = commands.add_parser("run-case", help="run an automation case against an environment or a base URL, "
                                                "and store the run")
    run.add_argument("case_id", help="the case's id or code, e.g. 12 or UC12")
    target = run.add_mutually_exclusive_group()
    target.add_argument("--base-url", help="send the rows here; $CASEFLOW_API_TOKEN, if set, as a Bearer token")
    target.add_argument("--environment", help="a named environment (default: the case's module's default one)")
    run.add_argument("--timeout", type=float, default=10.0, help="seconds per request (default 10)")
    run.add_argument("--junit", type=Path, help="also write the run as JUnit XML to this file (for CI)")
    run.add_argument("--mutants", action="store_true",
                     help="also check each row fails on wrong responses made from its own (assertion strength)")
    _user_option(run)
    run.set_defaults(handler=_run_case)

    strength = commands.add_parser("assertion-strength", help="whether a case's checks fail on wrong responses made "
                                                              "from a stored run's (default: its latest)")
    strength.add_argument("case_id", help="the case's id or code, e.g. 12 or UC12")
    strength.add_argument("--run", type=int, help="the run's id (default: the case's latest run)")
    strength.set_defaults(handler=_assertion_strength)

    covered = commands.add_parser("coverage", help="a module's operations x documented statuses x constraint "
                                                   "keywords, with approved rows and their last run")
    covered.add_argument("module")
    covered.add_argument("--launch", action="store_true", help="start a task for each operation with a gap")
    covered.add_argument("--user", default=os.environ.get("CASEFLOW_USER") or None,
                         help="who launches, with --launch (default: $CASEFLOW_USER)")
    covered.set_defaults(handler=_coverage)


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

    if args.regenerate and args.dry_run:
        raise InvalidInput("--regenerate starts tasks after an import: a --dry-run imports nothing.")
    report = service.import_openapi(_read_bytes(args.file), args.file.name, user=args.user, module=args.module,
                                    dry_run=args.dry_run)
    broken = [case["case_id"] for case in report["impact"] if case["regenerable"]]
    if args.regenerate and broken:
        report["regenerated"] = service.regenerate_cases(broken, user=args.user)
    return report


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

    token = None if args.base_url is None else os.environ.get(service.RUN_TOKEN_VARIABLE) or None
    run = service.run_case(_case_id(args.case_id), args.base_url, environment=args.environment, user=args.user,
                           timeout=args.timeout, token=token)
    if args.junit is not None:
        try:
            args.junit.write_text(service.run_junit(run["id"]), encoding="utf-8")
        except OSError as error:
            raise InvalidInput(f"Cannot write {args.junit}: {error.strerror}.") from None
    if args.mutants:
        run["assertion_strength"] = service.assertion_strength(run["case_id"], run["id"])
    return run


def _assertion_strength(args: argparse.Namespace) -> dict[str, Any]:
    from core import service

    return service.assertion_strength(_case_id(args.case_id), args.run)


def _coverage(args: argparse.Namespace) -> dict[str, Any]:
    if not args.launch:
        return _service().coverage_map(args.module)
    if not args.user:
        raise InvalidInput("`coverage --launch` acts as a user: pass --user NAME (or set CASEFLOW_USER) to say who.")
    return _service().launch_for_gaps(args.module, user=args.user)


AUTH_OPTIONS = {  # option -> (auth kind, field)
    "bearer_env": ("bearer", "secret_variable"),
    "api_key_header": ("api_key", "header"), "api_key_env": ("api_key", "secret_variable"),
    "basic_user": ("basic", "username"), "basic_password_env": ("basic", "secret_variable"),
}


def _environment_commands(commands: Any) -> None:
    """Named environments (base URL, headers, auth read from environment variables, variables) runs use."""
    environment = commands.add_parser("environment", help="the named environments runs use: add, list, show, remove")
    actions = environment.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="add an environment")
    add.add_argument("name", help="e.g. staging")
    add.add_argument("--base-url", required=True)
    add.add_argument("--header", action="append", default=[], metavar="NAME=VALUE",
                     help="sent with every request; {{variables}} allowed (repeatable; no credentials)")
    add.add_argument("--bearer-env", metavar="VAR", help="send 'Authorization: Bearer $VAR'")
    add.add_argument("--api-key-header", metavar="HEADER", help="send the key of --api-key-env in this header")
    add.add_argument("--api-key-env", metavar="VAR", help="the environment variable holding the API key")
    add.add_argument("--basic-user", metavar="USER", help="basic auth with this username ...")
    add.add_argument("--basic-password-env", metavar="VAR", help="... and the password in this environment variable")
    add.add_argument("--var", action="append", default=[], metavar="NAME=VALUE",
                     help="a variable, used as {{NAME}} in bodies, paths, query and headers (repeatable)")
    add.add_argument("--default-for", action="append", default=[], metavar="MODULE",
                     help="the module's default environment for runs (repeatable)")
    add.add_argument("--sandbox-for", action="append", default=[], metavar="MODULE",
                     help="the module's sandbox environment, for the run before review (repeatable)")
    _user_option(add)
    add.set_defaults(handler=_environment_add)
    listed = actions.add_parser("list", help="every environment, with its secret variables and whether they are set")
    _user_option(listed)
    listed.set_defaults(handler=_environment_list)
    for name, handler in (("show", _environment_show), ("remove", _environment_remove)):
        sub = actions.add_parser(name, help=f"{name} an environment")
        sub.add_argument("name")
        _user_option(sub)
        sub.set_defaults(handler=handler)


def _pairs(items: list[str], option: str) -> dict[str, str]:
    """NAME=VALUE options as a dict."""
    pairs: dict[str, str] = {}
    for item in items:
        name, equals, value = item.partition("=")
        if not equals or not name.strip():
            raise InvalidInput(f"{option} takes NAME=VALUE, e.g. {option} X-Tenant=acme.")
        pairs[name.strip()] = value
    return pairs


def _auth(args: argparse.Namespace) -> dict[str, str]:
    given = {option: getattr(args, option) for option in AUTH_OPTIONS if getattr(args, option)}
    kinds = {AUTH_OPTIONS[option][0] for option in given}
    if len(kinds) > 1:
        raise InvalidInput("Give one kind of auth: --bearer-env, --api-key-header with --api-key-env, or "
                           "--basic-user with --basic-password-env.")
    return {"kind": kinds.pop() if kinds else "none",
            **{AUTH_OPTIONS[option][1]: value for option, value in given.items()}}


def _environment_add(args: argparse.Namespace) -> dict[str, Any]:
    from core import service

    return service.create_environment({
        "name": args.name, "base_url": args.base_url, "headers": _pairs(args.header, "--header"),
        "auth": _auth(args), "variables": _pairs(args.var, "--var"), "default_for": args.default_for,
        "sandbox_for": args.sandbox_for,
    }, user=args.user)


def _environment_list(args: argparse.Namespace) -> list[dict[str, Any]]:
    from core import service

    return service.list_environments(user=args.user)


def _environment_show(args: argparse.Namespace) -> dict[str, Any]:
    from core import service

    return service.get_environment(args.name, user=args.user)


def _environment_remove(args: argparse.Namespace) -> dict[str, Any]:
    from core import service

    return service.remove_environment(args.name, user=args.user)
