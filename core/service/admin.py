"""Accounts and operations at the door: signing in, users, settings, the database, cleanup and the embedded worker.

Managing users, settings and the cleanup is for admins; anyone changes their own password.
The command line is the operator's trust boundary: its setup commands (``create_user``,
``setup``) act without an account, as whoever can run them already owns the database.
"""

from __future__ import annotations

from typing import Any

from core import migrate
from core.accounts import admin as accounts
from core.accounts import preferences, sessions, users
from core.accounts.users import Actor, current_actor, require_admin
from core.config import Settings, get_settings
from core.database import database
from core.errors import InvalidInput
from core.generation.factory import provider_choice
from core.library import demo_data
from core.tasks import cleanup, health, queue_control, wakeup
from core.tasks import worker as worker_runtime

authenticate = users.authenticate
"""(username, password, address=None, now=None) -> the Actor, or None (never says which part was wrong);
RateLimited, saying when to try again, after five failures for the username, or twenty from the client
address, within 15 minutes."""


def list_users(*, user: str) -> list[dict[str, Any]]:
    """Every user, by name: {id, username, role, is_active, created_at}."""
    require_admin(current_actor(user), "manage users")
    return accounts.list_users()


LANGUAGES = preferences.LANGUAGES
user_preferences = preferences.preferences
"""(username) -> {locale, time_zone} the user chose for the dashboard; None where they follow the browser."""
set_user_preferences = preferences.set_preferences
"""(username, *, locale, time_zone): keeps the language ("en", "zh_CN") and IANA time zone; None: the browser's."""


def usernames() -> list[str]:
    """Active users' names, for owner filters."""
    return accounts.usernames()


def add_user(username: str, role: str, password: str | None, *, user: str) -> dict[str, Any]:
    """A new account; without ``password`` one is generated and returned once as "password"."""
    require_admin(current_actor(user), "manage users")
    chosen = password or users.generate_password()
    created = accounts.add_user(username, role, chosen)
    return created if password else {**created, "password": chosen}


def update_user(
    username: str, *, role: str | None = None, active: bool | None = None, password: str | None = None, user: str
) -> dict[str, Any]:
    """Changes a user's role, whether they can sign in, or their password."""
    admin = require_admin(current_actor(user), "manage users")
    return accounts.update_user(admin, username, role=role, active=active, password=password)


def change_password(username: str, current: str, new: str, *, session_cookie: str | None = None) -> int:
    """A user changes their own password, proving they know the current one; returns how many of their
    other dashboard sessions it ended (the one whose cookie is ``session_cookie`` stays signed in)."""
    kept = sessions.authenticate(session_cookie)
    keep = kept.session_id if kept is not None and kept.actor.username == username else None
    return accounts.change_password(username, current, new, keep_session=keep)


def create_user(username: str, role: str, password: str) -> Actor:
    """A new account without an acting admin: the operator's command (``python -m core create-user``)."""
    return users.create_user(username, role, password)


def setup(admin_password: str | None) -> dict[str, Any]:
    """Migrates, loads the demo data into an empty database and creates the first admin.

    The generated admin password, when none was given, is in the result (shown once).
    """
    migrate.upgrade()
    loaded = demo_data.load_if_empty()
    password = users.ensure_admin(admin_password)
    result: dict[str, Any] = {"database": "upgraded", "demo_data": loaded}
    if password:
        result["admin"] = {"username": "admin", "password": password,
                           "note": "shown once; change it on the settings page"}
    return result


def upgrade_database() -> None:
    """Brings the configured database to the newest schema; safe to run again, and at once."""
    migrate.upgrade()


def check_database() -> None:
    """DatabaseUnavailable unless DATABASE_URL opens, answers and has the newest schema; writes nothing."""
    migrate.check_ready()


def system_overview(*, user: str) -> dict[str, Any]:
    """What the settings page shows admins: AI provider (key masked), workers, the queue, retention, database."""
    require_admin(current_actor(user), "see the settings")
    settings = get_settings()
    here = worker_runtime.current_in_process_worker()
    return {
        "ai": ai_provider_info(settings),
        "workers": {
            **health.health(),
            "run_scheduler": settings.run_scheduler, "concurrency": settings.worker_concurrency,
            "lease_seconds": settings.lease_seconds, "poll_seconds": settings.poll_seconds,
            "max_attempts": settings.max_attempts,
            "this_process": None if here is None else {"id": here.id, "running": here.scheduler.running},
            "executor": settings.task_executor,
        },
        "queue": queue_control.status(),
        "retention": {"days": settings.retention_days, "batch_size": settings.cleanup_batch_size,
                      "schedule": "daily at 03:17 UTC"},
        "database": {"backend": database().url.get_backend_name(),
                     "url": database().url.render_as_string(hide_password=True)},
        "review": {"max_review_rounds": settings.max_review_rounds, "max_repair_rounds": settings.max_repair_rounds},
    }


def run_cleanup(*, user: str | None, dry_run: bool, days: int | None = None) -> dict[str, Any]:
    """Applies the retention now (or, dry, counts what it would remove).

    Admins only; ``user=None`` is the operator's command line, trusted as admin.
    """
    if user is not None:
        require_admin(current_actor(user), "run the cleanup")
    settings = get_settings()
    days = settings.retention_days if days is None else days
    if days < 1:
        raise InvalidInput("The retention must be at least 1 day.")
    return dict(cleanup.cleanup(days, dry_run=dry_run, batch_size=settings.cleanup_batch_size))


def queue_status(*, user: str | None) -> dict[str, Any]:
    """{paused, changed_by, changed_at, runnable, waiting_to_retry, running, caps}: the queue at a glance.

    Admins only; ``user=None`` is the operator's command line, trusted as admin.
    """
    _require_admin_or_operator(user, "see the queue")
    return queue_control.status()


def pause_queue(*, user: str | None) -> dict[str, Any]:
    """Stops every worker from claiming; running tasks finish their run, new ones wait. Returns queue_status."""
    return _set_paused(True, user)


def resume_queue(*, user: str | None) -> dict[str, Any]:
    """Lets workers claim again, at once (they are woken). Returns queue_status."""
    result = _set_paused(False, user)
    wakeup.notify()
    return result


def _set_paused(paused: bool, user: str | None) -> dict[str, Any]:
    by = _require_admin_or_operator(user, "pause or resume the queue")
    return queue_control.set_paused(paused, by)


def _require_admin_or_operator(user: str | None, action: str) -> str:
    """The acting admin's name, or "operator" for the command line."""
    if user is None:
        return "operator"
    return require_admin(current_actor(user), action).username


def ai_provider_info(settings: Settings) -> dict[str, Any]:
    """Which AI provider runs the steps, and how it is configured; the key is masked."""
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key is not None else None
    provider = provider_choice(settings)
    return {
        "provider": provider,
        "setting": settings.ai_provider,
        "model": settings.openai_model if provider == "openai" else "offline (derived from the schema)",
        "base_url": settings.openai_base_url or ("https://api.openai.com/v1" if provider == "openai" else None),
        "api_key": mask_secret(key),
        "timeout_seconds": settings.ai_timeout_seconds,
        "latency_seconds": settings.ai_latency_seconds,
    }


def mask_secret(secret: str | None) -> str | None:
    """sk-proj-abcdef1234 -> sk-…1234: enough to tell keys apart, never enough to use one."""
    if not secret:
        return None
    if len(secret) <= 8:
        return "•" * len(secret)
    return f"{secret[:3]}…{secret[-4:]}"


def start_embedded_worker() -> str | None:
    """Starts this process's worker when RUN_SCHEDULER says so (once per process); its id, else None.

    With TASK_EXECUTOR=celery the Celery workers run the tasks: no embedded worker then.
    """
    settings = get_settings()
    if not settings.run_scheduler or settings.task_executor == "celery":
        return None
    return worker_runtime.in_process_worker().id


def stop_embedded_worker() -> None:
    """Stops this process's worker once its running steps finish; the workers table then says "stopped"."""
    worker_runtime.stop_in_process_worker()
