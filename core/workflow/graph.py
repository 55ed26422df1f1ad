"""Wires the ten nodes into one LangGraph graph, keyed by the task's thread_id."""

from __future__ import annotations

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from core.workflow import nodes
from core.workflow.state import WorkflowContext, WorkflowState

Graph = CompiledStateGraph[WorkflowState, WorkflowContext, WorkflowState, WorkflowState]


def build_graph(checkpointer: BaseCheckpointSaver) -> Graph:
    """The workflow: 1-8 in a line with a repair loop at 5-6, a pause at 9, the case at 10."""
    builder = StateGraph(WorkflowState, context_schema=WorkflowContext)
    for node in (
        nodes.load_inputs,
        nodes.analyse_case,
        nodes.plan_rows,
        nodes.generate_bodies,
        nodes.validate_bodies,
        nodes.repair_bodies,
        nodes.generate_assertions,
        nodes.assemble_draft,
        nodes.human_review,
        nodes.create_case,
        nodes.reject_out,
    ):
        builder.add_node(node.__name__, node)
    builder.add_edge(START, "load_inputs")
    builder.add_edge("load_inputs", "analyse_case")
    builder.add_edge("analyse_case", "plan_rows")
    builder.add_edge("plan_rows", "generate_bodies")
    builder.add_edge("generate_bodies", "validate_bodies")
    builder.add_conditional_edges("validate_bodies", nodes.after_validation)
    builder.add_edge("repair_bodies", "validate_bodies")
    builder.add_edge("generate_assertions", "assemble_draft")
    builder.add_edge("assemble_draft", "human_review")
    builder.add_conditional_edges("human_review", nodes.after_review)
    builder.add_edge("create_case", END)
    builder.add_edge("reject_out", END)
    return builder.compile(checkpointer=checkpointer)


def thread_config(thread_id: str) -> dict[str, dict[str, str]]:
    """The config that addresses a task's thread."""
    return {"configurable": {"thread_id": thread_id}}
