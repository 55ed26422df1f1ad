"""The tables of CaseFlow as typed SQLAlchemy 2 models.

`workflow_tasks` keeps every column of the original specification with its name and
meaning; the columns after `updated_at` are what running tasks for real needs.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from db.types import UTCDateTime, utcnow

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


UNREFLECTED_INDEXES: frozenset[str] = frozenset({
    "idx_workflow_tasks_thread_id_trgm", "idx_workflow_tasks_input_params_trgm",
})
"""Indexes the models do not declare: the task search's trigram indexes (PostgreSQL only, migration 0016;
SQLite's is the FTS5 table task_search). Indexes with a DESC column would go here too: SQLite's reflection
drops the DESC, so comparing them always differs."""


def own_tables_only(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """Alembic's include_object: compare CaseFlow's tables (not LangGraph's) and their reflectable indexes."""
    if type_ == "index":
        return name not in UNREFLECTED_INDEXES
    return type_ != "table" or name in Base.metadata.tables


class TaskStatus(str, enum.Enum):
    """Where a task is; the strings are the specification's and are stored as they are."""

    PENDING = "pending"  # created or requeued, waiting for a worker (0%)
    PROCESSING = "processing"  # a worker holds its lease and runs steps (5-80%)
    REVIEWING = "reviewing"  # paused at step 9 for a human decision (80%)
    COMPLETED = "completed"  # the automation case exists (100%)
    FAILED = "failed"  # stopped with error_message (0%)
    CANCELLED = "cancelled"  # stopped by a user

    @classmethod
    def terminal(cls) -> tuple[TaskStatus, ...]:
        return (cls.COMPLETED, cls.FAILED, cls.CANCELLED)


class Role(str, enum.Enum):
    ADMIN = "admin"  # everything, including users and settings
    ENGINEER = "engineer"  # launches, reviews, cancels and retries tasks
    VIEWER = "viewer"  # reads only


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(20), default=Role.ENGINEER.value)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, server_default=func.now())
    locale: Mapped[str | None] = mapped_column(String(20))  # the dashboard's language; NULL: the browser's
    time_zone: Mapped[str | None] = mapped_column(String(64))  # an IANA name; NULL: the browser's


Index("uq_users_username_lower", func.lower(User.username), unique=True)
"""Usernames are unique without regard to case: "ADMIN" cannot be added beside "admin"."""


class SignInFailure(Base):
    """A failed sign-in, kept for core.accounts.throttle's 15 minutes; shared by every dashboard process.

    Each failure is two rows: one for the username (scope "user") and, when the client's
    address is known, one for it (scope "address").
    """

    __tablename__ = "sign_in_failures"
    __table_args__ = (Index("idx_sign_in_failures_key", "scope", "username", "failed_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope: Mapped[str] = mapped_column(String(10), default="user", server_default="user")  # user | address
    username: Mapped[str] = mapped_column(String(100))  # the key: a username as typed, lower-cased, or an address
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class UserSession(Base):
    """A signed-in browser: the dashboard's session cookie names it (core.accounts.sessions).

    Only digests are stored. A session starts as a one-time grant (``grant_hash``), which the
    browser exchanges within a minute for the cookie's token (``token_hash``).
    """

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    grant_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    grant_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    address: Mapped[str | None] = mapped_column(String(64))  # the client's address at sign-in, when known
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Scene(Base):
    """An API operation: method, path and the JSON Schema of its request body."""

    __tablename__ = "scenes"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)  # e.g. "SC001"
    name: Mapped[str] = mapped_column(String(200))
    module: Mapped[str] = mapped_column(String(100), default="", index=True)
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(500))
    summary: Mapped[str] = mapped_column(Text, default="")
    request_schema: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    responses: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    parameters: Mapped[list[Any]] = mapped_column(JSON, default=list)
    request_media_type: Mapped[str] = mapped_column(String(100), default="application/json",
                                                    server_default="application/json")
    """How the body is sent: JSON, or a form (application/x-www-form-urlencoded, multipart/form-data)."""
    source: Mapped[str | None] = mapped_column(String(200), index=True)  # the OpenAPI document's title, if imported
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, server_default=func.now())
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, onupdate=utcnow)


class TestCase(Base):
    """A manual test case as a QA engineer wrote it."""

    __tablename__ = "test_cases"
    __test__ = False  # not a pytest class

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    module: Mapped[str] = mapped_column(String(100), default="", index=True)
    preconditions: Mapped[str] = mapped_column(Text, default="")
    steps: Mapped[str] = mapped_column(Text, default="")
    expected_result: Mapped[str] = mapped_column(Text, default="")
    priority: Mapped[str] = mapped_column(String(10), default="P2")
    scene_id: Mapped[str | None] = mapped_column(ForeignKey("scenes.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, server_default=func.now())
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, onupdate=utcnow)


class WorkflowTask(Base):
    __tablename__ = "workflow_tasks"
    __table_args__ = (
        Index("idx_workflow_tasks_thread_id", "thread_id"),
        Index("idx_workflow_tasks_user_id", "user_id"),
        Index("idx_workflow_tasks_status", "status"),
        # claims: pending by rank (priority with aging, see core.tasks.lifecycle.queue_rank); listings:
        # newest first per status or owner; metrics read durations from the index alone, not the large rows
        Index("idx_workflow_tasks_claim_rank", "status", "ranked_at"),
        Index("idx_workflow_tasks_status_times", "status", "created_at", "started_at", "completed_at"),
        Index("idx_workflow_tasks_user_created", "user_id", "created_at"),
        Index("idx_workflow_tasks_created_at", "created_at"),
        # the reviews waiting and their age (review desk, deadlines, metrics), oldest first
        Index("idx_workflow_tasks_review_asked", "status", "review_asked_at", sqlite_where=text("status = 'reviewing'"),
              postgresql_where=text("status = 'reviewing'")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    thread_id: Mapped[str] = mapped_column(String(100), unique=True)
    task_type: Mapped[str] = mapped_column(String(50), default="automation_case", server_default="automation_case")
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    test_case_id: Mapped[int | None] = mapped_column(ForeignKey("test_cases.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(50), default=TaskStatus.PENDING.value, server_default="pending")
    current_step: Mapped[str | None] = mapped_column(String(100))
    progress: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    input_params: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    result_data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error_message: Mapped[str | None] = mapped_column(Text)
    need_review: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    interrupt_data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    new_usercase_id: Mapped[str | None] = mapped_column(String(100))
    created_case: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, server_default=func.now())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    priority: Mapped[int] = mapped_column(Integer, default=5, server_default="5")  # 0-9, higher first
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # runs since the last retry
    claims: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # every claim; the fencing token
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    run_after: Mapped[datetime | None] = mapped_column(UTCDateTime)  # backoff before an automatic retry
    review_asked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """When the task last asked for a review (its latest need-review event); None once it no longer waits."""
    ranked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    """The claim order: created_at moved earlier by priority × PRIORITY_AGING_SECONDS (oldest first)."""


class TaskEvent(Base):
    """One thing that happened to a task: its timeline, notifications and step timings."""

    __tablename__ = "task_events"
    __table_args__ = (
        Index("idx_task_events_task_id", "task_id", "id"),
        # the step timings the metrics read for a range's partial days (core.tasks.metrics.step_durations)
        Index("idx_task_events_steps", "task_id", "step", "duration_ms",
              sqlite_where=text("type = 'step_completed' AND duration_ms IS NOT NULL"),
              postgresql_where=text("type = 'step_completed' AND duration_ms IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("workflow_tasks.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(50))
    step: Mapped[str | None] = mapped_column(String(100))
    message: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    worker: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, server_default=func.now())


class MetricRollup(Base):
    """Counts the metrics page reads instead of every row, kept by triggers (migration 0015) in the
    transaction of each insert, status change and delete of a task, review or step event.

    ``kind``: "task" (status = the task's status; a completed task with a duration counts in its
    duration ``bucket`` (floor(log_1.05 seconds)) and adds its seconds; "pct" keeps exact daily percentiles), "review"
    (status = approved | rejected), "round" (migration 0017: module = the review's scene, status = its
    provider, bucket = 1 for a round approved without edits, else 0) or "step" (status = the step,
    seconds = milliseconds summed, ``peak`` = the slowest run, never lowered by deletes). ``day`` is the
    UTC day of the task's creation (of the decision for reviews); ``module`` the task's module.
    """

    __tablename__ = "metric_rollups"
    # status before module: the metrics filter kind and day and group by status (migration 0018);
    # WITHOUT ROWID on SQLite, so a lookup reads the key's b-tree alone
    __table_args__ = (PrimaryKeyConstraint("kind", "day", "status", "module", "bucket"), {"sqlite_with_rowid": False})

    kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    module: Mapped[str] = mapped_column(String(100), primary_key=True)
    status: Mapped[str] = mapped_column(String(100), primary_key=True)
    bucket: Mapped[int] = mapped_column(Integer, primary_key=True)  # -1000: no duration
    count: Mapped[int] = mapped_column(Integer, default=0)
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    peak: Mapped[float | None] = mapped_column(Float)


class Review(Base):
    """A reviewer's decision on one round of generated rows; one per task and round."""

    __tablename__ = "reviews"
    __table_args__ = (UniqueConstraint("task_id", "round", name="uq_reviews_task_id_round"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("workflow_tasks.id", ondelete="CASCADE"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    review_status: Mapped[str] = mapped_column(String(20))  # approved | rejected
    corrected_body: Mapped[list[Any] | None] = mapped_column(JSON)
    corrected_setup: Mapped[list[Any] | None] = mapped_column(JSON)
    """The setup steps as the reviewer corrected them; None keeps the generated ones."""
    feedback: Mapped[str] = mapped_column(Text, default="")
    scene_id: Mapped[str | None] = mapped_column(String(100), index=True)
    """The task's scene (no foreign key: what reviewers taught outlives a re-imported scene)."""
    provider: Mapped[str | None] = mapped_column(String(50))
    """The provider that wrote the rows of this round; None for rounds reviewed before migration 0017."""
    edited: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    edits: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """What the reviewer changed (core.library.review_lessons.Edits); None before migration 0017."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, server_default=func.now())


class ReviewClaim(Base):
    """Who is reviewing a task right now: a soft lock the review page holds and refreshes while it is open.

    It only informs (core.tasks.review_desk): a claim past ``expires_at`` counts as none, and no
    review decision (dashboard, HTTP API, CLI) ever checks it. One per task.
    """

    __tablename__ = "review_claims"

    task_id: Mapped[int] = mapped_column(ForeignKey("workflow_tasks.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReviewAssignment(Base):
    """The reviewer a lead (an admin) asked to review a task; one per task, kept across its rounds."""

    __tablename__ = "review_assignments"

    task_id: Mapped[int] = mapped_column(ForeignKey("workflow_tasks.id", ondelete="CASCADE"), primary_key=True)
    assignee_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AutomationCase(Base):
    """The product: a runnable API automation case. It outlives the task that made it."""

    __tablename__ = "automation_cases"
    __table_args__ = {"sqlite_autoincrement": True}  # ids, and so case codes, are never reused

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int | None] = mapped_column(
        ForeignKey("workflow_tasks.id", ondelete="SET NULL"), unique=True
    )
    name: Mapped[str] = mapped_column(String(300))
    module_id: Mapped[str] = mapped_column(String(100), default="")
    scene_id: Mapped[str | None] = mapped_column(String(100))
    test_case_id: Mapped[int | None] = mapped_column(Integer)
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(500))
    rows: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    setup: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list, server_default="[]")
    """The requests sent before each row (core.records.SetupStep): what the path's resources need to exist."""
    provider: Mapped[str] = mapped_column(String(50), default="")
    model: Mapped[str] = mapped_column(String(100), default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, server_default=func.now())

    @property
    def code(self) -> str:
        """The case's public id, the specification's `new_usercase_id` (e.g. "UC789")."""
        return f"UC{self.id}"


class Worker(Base):
    """A scheduler process; its heartbeat tells the settings page it is alive."""

    __tablename__ = "workers"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    hostname: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int] = mapped_column(Integer)
    concurrency: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AICall(Base):
    """One request to the AI provider: the step, how long it took, its tokens and how it ended.

    Retries and repairs are rows of their own. Calls outlive their task (its id becomes
    NULL), so usage and cost survive the retention cleanup.
    """

    __tablename__ = "ai_calls"
    __table_args__ = (
        Index("idx_ai_calls_task_id", "task_id", "id"),
        Index("idx_ai_calls_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("workflow_tasks.id", ondelete="SET NULL"))
    step: Mapped[str] = mapped_column(String(100))  # the workflow node, e.g. "generate_bodies"
    purpose: Mapped[str] = mapped_column(String(20))  # generate | repair
    attempt: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    provider: Mapped[str] = mapped_column(String(50))
    model: Mapped[str] = mapped_column(String(100))
    response_format: Mapped[str] = mapped_column(String(20))  # json_schema | json_object
    # ok | invalid_output | rate_limited | server_error | timeout | connection_error | rejected
    outcome: Mapped[str] = mapped_column(String(30))
    latency_ms: Mapped[int] = mapped_column(Integer)
    prompt_tokens: Mapped[int | None] = mapped_column(Integer)  # None: the endpoint did not say
    completion_tokens: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, server_default=func.now())


class SystemState(Base):
    """Small named switches the whole fleet reads, e.g. "queue" = {"paused": true}."""

    __tablename__ = "system_state"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_by: Mapped[str | None] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class CaseRun(Base):
    """One run of an automation case against a base URL, with each row's outcome."""

    __tablename__ = "case_runs"
    __table_args__ = (Index("idx_case_runs_case_id", "case_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("automation_cases.id", ondelete="CASCADE"))
    base_url: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(20))  # passed | failed
    total: Mapped[int] = mapped_column(Integer)
    passed: Mapped[int] = mapped_column(Integer)
    failed: Mapped[int] = mapped_column(Integer)
    # per row: name, kind, method, url, status_code, passed, failures, response_excerpt, duration_ms
    rows: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    run_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    duration_ms: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, server_default=func.now())
    environment: Mapped[str | None] = mapped_column(String(100))  # its name then; None: a base URL given by hand


class Environment(Base):
    """A named target of runs (dev, staging ...): base URL, headers, auth and variables.

    Secrets are never stored: the auth names the process environment variable that holds
    the token, key or password (``auth_secret_variable``), read at each run.
    """

    __tablename__ = "environments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    base_url: Mapped[str] = mapped_column(String(500))
    headers: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    auth_kind: Mapped[str] = mapped_column(String(20), default="none", server_default="none")
    # none | bearer | api_key | basic
    auth_header: Mapped[str | None] = mapped_column(String(100))  # api_key: the header that carries the key
    auth_username: Mapped[str | None] = mapped_column(String(200))  # basic
    auth_secret_variable: Mapped[str | None] = mapped_column(String(100))  # bearer, api_key, basic
    variables: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, server_default=func.now())
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, onupdate=utcnow)


class ModuleEnvironment(Base):
    """A module's default environment (runs without one named) and sandbox environment (runs before review)."""

    __tablename__ = "module_environments"

    module: Mapped[str] = mapped_column(String(100), primary_key=True)
    default_environment_id: Mapped[int | None] = mapped_column(
        ForeignKey("environments.id", ondelete="SET NULL"), index=True)
    sandbox_environment_id: Mapped[int | None] = mapped_column(
        ForeignKey("environments.id", ondelete="SET NULL"), index=True)


class ApiToken(Base):
    """A personal API token: only its SHA-256 digest is stored; the token itself is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))  # the token's first characters, to tell tokens apart
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, server_default=func.now())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Webhook(Base):
    """Where to tell about a user's or a module's tasks needing review, failing or completing."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    kind: Mapped[str] = mapped_column(String(20))  # generic | wecom | dingtalk | feishu | slack
    url: Mapped[str] = mapped_column(String(1000))  # chat webhooks carry their key in it: never shown whole
    encrypted_secret: Mapped[str | None] = mapped_column(Text)  # signs deliveries (core.encryption); never shown
    events: Mapped[list[str]] = mapped_column(JSON)  # need_review, failed, completed
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))  # this user's tasks
    module: Mapped[str | None] = mapped_column(String(100))  # or every task of this module
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    cursor_event_id: Mapped[int] = mapped_column(Integer, default=0)  # task events up to here are fanned out
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, server_default=func.now())


class WebhookDelivery(Base):
    """One notice to one webhook, its attempts and outcome: the delivery log.

    ``event_id`` and ``task_id`` are plain numbers: the retention cleanup removes events
    and tasks, and the log keeps its own retention.
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("webhook_id", "event_id", name="uq_webhook_deliveries_webhook_id_event_id"),
        Index("idx_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("idx_webhook_deliveries_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    event_id: Mapped[int] = mapped_column(Integer)
    task_id: Mapped[int | None] = mapped_column(Integer)
    event: Mapped[str] = mapped_column(String(20))  # need_review | failed | completed
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending | delivered | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)  # the body as sent, before any signature
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    response_status: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, server_default=func.now())
