"""The AI provider on an OpenAI-compatible endpoint: OpenAI, a hosted model, a local vLLM or Ollama.

Three calls on the happy path: the analysis with the data plan (steps 2 and 3), the
bodies (step 4) and the assertions (step 7). An answer that does not parse, has the
wrong shape or whose rows miss their intent gets one repair call; what is still wrong
is filled in by the offline provider and marked ``offline-fallback``. Step 6 never calls
the model: the bodies it sees already had their repair.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TypeVar

from core.config import Settings
from core.generation.offline.provider import OfflineProvider
from core.generation.offline.rows import BASELINE, baseline_plan
from core.generation.openai_compatible import answers, prompts
from core.generation.openai_compatible.answer_schemas import ANALYSIS, ASSERTIONS, BODIES, PLAN, AnswerSpec, Checked
from core.generation.openai_compatible.answers import Rows, Whole
from core.generation.openai_compatible.chat import ChatClient, Recorder
from core.generation.openai_compatible.prompts import SceneView
from core.records import Analysis, DataRow, RowAssertions, RowPlan, SceneInput, TestCaseInput, Verdict
from core.schema.responses import statuses

T = TypeVar("T")
A = TypeVar("A", Whole, Rows)


class OpenAIProvider:
    """Implements :class:`~core.generation.provider.Provider` with a model; safe to share between threads."""

    name = "openai"

    def __init__(self, settings: Settings, record: Recorder | None = None) -> None:
        self.chat = ChatClient(settings, record)
        self.model = settings.openai_model
        self.offline = OfflineProvider()

    def analyse(self, case: TestCaseInput, scene: SceneInput) -> Analysis:
        """One call for the analysis and the plan; the plan rides along in ``analysis["plan"]``."""
        view = SceneView(case, scene)
        conversation = prompts.messages(prompts.ANALYSE, view.analyse())
        check = partial(answers.check_analysis, view=view)
        whole = self._ask_whole("analyse_case", ANALYSIS, conversation, view, check)
        fallback = self.offline.analyse(case, scene)
        analysis = whole.value or Analysis(**fallback, plan=[])
        if not analysis["intent"]:
            analysis = Analysis(**{**analysis, "intent": fallback["intent"]})
        analysis["plan"] = self._complete_plan(analysis.get("plan", []), case, scene, fallback)
        return analysis

    def plan_rows(
        self, case: TestCaseInput, scene: SceneInput, analysis: Analysis, feedback: list[str]
    ) -> list[RowPlan]:
        """The plan made with the analysis; a call of its own only for an analysis made without one."""
        if analysis.get("plan"):
            return list(analysis["plan"])
        view = SceneView(case, scene)
        analysed = {key: value for key, value in analysis.items() if key != "plan"}
        conversation = prompts.messages(prompts.PLAN, view.plan(analysed, feedback))
        whole = self._ask_whole("plan_rows", PLAN, conversation, view, partial(answers.check_plan_answer, view=view))
        return self._complete_plan(whole.value or [], case, scene, analysis)

    def generate_bodies(
        self, case: TestCaseInput, scene: SceneInput, plan: list[RowPlan], feedback: list[str]
    ) -> list[DataRow]:
        """The model's bodies; rows it gets wrong twice get the offline provider's, marked offline-fallback."""
        view = SceneView(case, scene)
        by_name = {row["name"]: row for row in plan}
        conversation = prompts.messages(prompts.BODIES, view.bodies(plan, feedback))
        schema = scene["request_schema"]
        good = self._ask_rows(
            "generate_bodies", BODIES, conversation, view, list(by_name),
            lambda names: lambda text: answers.check_bodies(text, schema, [by_name[name] for name in names]),
        )
        missing = [row for row in plan if row["name"] not in good]
        made = self.offline.generate_bodies(case, scene, missing, feedback) if missing else []
        fallback = {row["name"]: row for row in made}
        return [
            DataRow(**row, body=good[row["name"]], source="model")
            if row["name"] in good
            else DataRow(**{**fallback[row["name"]], "source": "offline-fallback"})
            for row in plan
        ]

    def repair_rows(
        self, scene: SceneInput, rows: list[DataRow], problems: dict[str, list[str]]
    ) -> list[DataRow]:
        """The offline provider's repair: the model's bodies already had theirs in step 4."""
        return self.offline.repair_rows(scene, rows, problems)

    def repair_from_server(
        self, case: TestCaseInput, scene: SceneInput, rows: list[DataRow], answers: dict[str, Verdict]
    ) -> list[DataRow]:
        """The model regenerates the refused rows with the server's answers as feedback; the offline
        provider then applies what the answers teach to every row."""
        refused = [row for row in rows if row["name"] in answers]
        feedback = [f"The API answered {answers[row['name']]['status']} to the row {row['name']!r} "
                    f"(expected {row['expected_status']}): {answers[row['name']]['excerpt'][:500]}"
                    + _without(answers[row["name"]]) for row in refused]
        fresh = {row["name"]: row for row in self.generate_bodies(case, scene, refused, feedback)}
        note = "regenerated by the model after the API's answer"
        merged = [DataRow(**{**row, "body": fresh[row["name"]]["body"], "repairs": [*row.get("repairs", []), note]})
                  if row["name"] in fresh and fresh[row["name"]]["body"] != row["body"] else row for row in rows]
        return self.offline.repair_from_server(case, scene, merged, answers)

    def generate_assertions(
        self, case: TestCaseInput, scene: SceneInput, rows: list[DataRow]
    ) -> list[RowAssertions]:
        """The model's checks; rows it gets wrong twice get the offline provider's, marked offline-fallback."""
        view = SceneView(case, scene)
        by_name = {row["name"]: row for row in rows}
        conversation = prompts.messages(prompts.ASSERT, view.assertions(rows))
        good = self._ask_rows(
            "generate_assertions", ASSERTIONS, conversation, view, list(by_name),
            lambda names: lambda text: answers.check_assertions(text, [by_name[name] for name in names]),
        )
        missing = [row for row in rows if row["name"] not in good]
        made = self.offline.generate_assertions(case, scene, missing) if missing else []
        fallback = {item["name"]: item for item in made}
        return [
            good[row["name"]]
            if row["name"] in good
            else RowAssertions(**{**fallback[row["name"]], "source": "offline-fallback"})
            for row in rows
        ]

    def _ask_whole(
        self, step: str, spec: AnswerSpec, conversation: list[prompts.Message], view: SceneView,
        parse: Callable[[str], Whole[T]],
    ) -> Whole[T]:
        """An answer as a whole, repaired once if needed; the repair's answer wins when it parses."""
        first = self.chat.complete(step, "generate", conversation, spec, _checked(parse))
        whole = first.checked.value
        if not whole.problems:
            return whole
        retry = view.repair(conversation, first.text, whole.problems, None)
        second = self.chat.complete(step, "repair", retry, spec, _checked(parse)).checked.value
        return second if second.value is not None else whole

    def _ask_rows(
        self, step: str, spec: AnswerSpec, conversation: list[prompts.Message], view: SceneView, names: list[str],
        parser: Callable[[list[str]], Callable[[str], Rows]],
    ) -> dict[str, object]:
        """The good rows of an answer by name; the others asked for once more."""
        first = self.chat.complete(step, "generate", conversation, spec, _checked(parser(names)))
        rows = first.checked.value
        good = dict(rows.good)
        if rows.pending:
            scope = None if len(rows.pending) == len(names) else rows.pending
            retry = view.repair(conversation, first.text, rows.problems, scope)
            second = self.chat.complete(step, "repair", retry, spec, _checked(parser(rows.pending)))
            good.update(second.checked.value.good)
        return good

    def _complete_plan(
        self, plan: list[RowPlan], case: TestCaseInput, scene: SceneInput, analysis: Analysis
    ) -> list[RowPlan]:
        """The offline plan when the model's is empty; a plain valid row in front when it lacks one."""
        if not plan:
            return self.offline.plan_rows(case, scene, {**analysis, "plan": []}, [])
        if any(row["kind"] == "valid" for row in plan):
            return plan
        baseline = baseline_plan(statuses(scene["responses"])["valid"])
        taken = {row["name"] for row in plan}
        candidates = (BASELINE, *(f"{BASELINE}_{number}" for number in range(2, len(plan) + 3)))
        baseline["name"] = next(name for name in candidates if name not in taken)
        return [baseline, *plan]


def _checked(parse: Callable[[str], A]) -> Callable[[str], Checked[A]]:
    """Adapts a check function to the chat client, which records whether the answer had problems."""

    def run(text: str) -> Checked[A]:
        value = parse(text)
        return Checked(value=value, problems=list(value.problems))

    return run


def _without(verdict: Verdict) -> str:
    """What the sandbox found about a server failure: the fields the API accepts the row without."""
    fields = verdict.get("fails_with")
    return f" It accepts the row without {', '.join(fields)}: leave those out." if fields else ""
