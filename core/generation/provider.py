"""The AI provider interface the workflow calls, one method per AI step.

The offline provider (``core.generation.offline``) and the OpenAI-compatible provider
(``core.generation.openai_compatible``) both implement :class:`Provider`; the records
they exchange live in ``core.records``.
"""

from __future__ import annotations

from typing import Protocol

from core.records import Analysis, DataRow, RowAssertions, RowPlan, SceneInput, TestCaseInput, Verdict


class Provider(Protocol):
    """What the workflow needs from an AI provider, one method per AI step."""

    name: str
    model: str

    def analyse(self, case: TestCaseInput, scene: SceneInput) -> Analysis:
        """Step 2: intent, fields involved and expected outcome of the case."""
        ...

    def plan_rows(
        self, case: TestCaseInput, scene: SceneInput, analysis: Analysis, feedback: list[str]
    ) -> list[RowPlan]:
        """Step 3: valid, boundary and invalid rows tied to the schema's constraints."""
        ...

    def generate_bodies(
        self, case: TestCaseInput, scene: SceneInput, plan: list[RowPlan], feedback: list[str]
    ) -> list[DataRow]:
        """Step 4: one request body per planned row; reviewer feedback, oldest first."""
        ...

    def repair_rows(
        self, scene: SceneInput, rows: list[DataRow], problems: dict[str, list[str]]
    ) -> list[DataRow]:
        """Step 6: new bodies for the rows named in ``problems`` (row name -> messages); others unchanged."""
        ...

    def repair_from_server(
        self, case: TestCaseInput, scene: SceneInput, rows: list[DataRow], answers: dict[str, Verdict]
    ) -> list[DataRow]:
        """Step 6 after a sandbox run: new bodies for the rows whose answers (row name -> the sandbox's
        verdict) contradict their kind, heeding what the server said; what a fix teaches (a field must be
        lower case) applies to every row. Rows changed carry ``repairs``."""
        ...

    def generate_assertions(
        self, case: TestCaseInput, scene: SceneInput, rows: list[DataRow]
    ) -> list[RowAssertions]:
        """Step 7: expected status and response checks, one entry per row, same order."""
        ...
