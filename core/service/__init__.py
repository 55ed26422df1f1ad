"""The one door into CaseFlow: every entry point (dashboard, CLI, HTTP API, bench) calls these and nothing else.

Split by concern: ``tasks`` (the specification's workflow calls and what the dashboard
shows of tasks), ``library`` (test cases, scenes, automation cases, import, export, run),
``environments`` (the named targets of runs and each module's defaults),
``admin`` (accounts, settings, database, cleanup, the embedded worker), ``insights``
(metrics), ``review_desk`` (the review queue, who is reviewing, assignments), ``access``
(API tokens) and ``integrations`` (notification feeds, webhooks).
Permission checks happen here; the record types entry points need are re-exported so
they import nothing else of the product.
"""

from __future__ import annotations

from core.accounts.users import Actor, current_actor
from core.errors import CaseFlowError, Conflict, Forbidden, InvalidInput, NotFound, RateLimited
from core.paging import MAX_PAGE, MAX_SEARCH
from core.schema.walk import display as field_name
from core.service.access import (
    SESSION_COOKIE,
    authenticate_token,
    create_api_token,
    end_session,
    list_api_tokens,
    redeem_session_grant,
    revoke_api_token,
    session_actor,
    session_lifetime_seconds,
    sso_sign_in,
    start_session,
)
from core.service.admin import (
    LANGUAGES,
    add_user,
    ai_provider_info,
    authenticate,
    change_password,
    check_database,
    create_user,
    list_users,
    mask_secret,
    pause_queue,
    queue_status,
    resume_queue,
    run_cleanup,
    set_user_preferences,
    setup,
    start_embedded_worker,
    stop_embedded_worker,
    system_overview,
    update_user,
    upgrade_database,
    user_preferences,
    usernames,
)
from core.service.environments import (
    ENVIRONMENT_AUTH_FIELDS,
    ENVIRONMENT_AUTH_KINDS,
    create_environment,
    get_environment,
    list_environments,
    list_module_environments,
    remove_environment,
    set_module_environments,
    update_environment,
)
from core.service.insights import TimeRange, ai_usage, metrics_overview
from core.service.integrations import (
    MAX_FEED,
    WEBHOOK_EVENTS,
    WEBHOOK_KINDS,
    WEBHOOK_SIGNATURE_HEADER,
    add_webhook,
    list_webhooks,
    new_secret_key,
    notification_feed,
    remove_webhook,
    user_notification_feed,
    webhook_deliveries,
)
from core.service.library import (
    DEFAULT_RUN_TIMEOUT_SECONDS,
    DEFAULT_TEST_CASE_PRIORITY,
    RUN_TOKEN_VARIABLE,
    TEST_CASE_PRIORITIES,
    Export,
    Preview,
    assertion_strength,
    coverage_map,
    create_test_case,
    export_case,
    export_module,
    get_automation_case,
    get_scene,
    get_test_case,
    import_openapi,
    import_test_cases,
    launch_for_gaps,
    library_is_empty,
    list_automation_cases,
    list_modules,
    list_scenes,
    list_scenes_page,
    list_test_cases,
    load_demo_data,
    preview_test_cases,
    row_checks,
    run_case,
    run_junit,
    trace_rows,
    update_test_case,
)
from core.service.review_desk import (
    assign_review,
    claim_review,
    release_review,
    review_desk_of,
    review_queue,
)
from core.service.tasks import (
    COUNT_CAP,
    MAX_REVIEW_BODY_BYTES,
    MAX_WAIT_SECONDS,
    TASK_PRIORITIES,
    ai_calls_of_task,
    cancel_task,
    cancel_tasks,
    check_review_rows,
    check_setup,
    corrected_rows,
    events_since,
    explain_task,
    get_task,
    get_task_by_thread,
    latest_event_id,
    list_tasks,
    queue_position,
    regenerate_cases,
    retry_task,
    retry_tasks,
    reviews_of_task,
    start_workflow,
    submit_review,
    task_counts,
    task_steps,
    task_timeline,
    variable_example,
)
from core.tasks.review_deadlines import waited as review_waited
from core.workflow.steps import AWAITING_REVIEW, CASE_CREATED, STEP_BY_NODE, STEPS, Step
from core.workflow.steps import describe as describe_step
from core.workflow.steps import position as step_position
from db.models import Role, TaskStatus
