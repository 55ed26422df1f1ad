"""The HTTP API and WebSocket (FastAPI), an entry point beside the dashboard: it calls core.service only.

Run it with ``python -m core api``; see docs/api.md.
"""

from core.api.app import create_app
