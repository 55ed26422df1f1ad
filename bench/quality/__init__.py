"""CaseFlow's generated cases measured against real open-source API servers (issue 9 point 7).

``servers`` installs and starts the servers, ``documents`` imports their documents, ``harness``
is the core loop (import, test cases, tasks, approvals, two runs, all through ``core.service``),
``analysis`` turns the stored rows into figures and ``report`` renders them. Run it as
``python -m bench.quality``; ``python -m bench`` runs it too and puts it in docs/performance.md.
"""
