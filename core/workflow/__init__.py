"""The ten-step LangGraph workflow that turns a test case and a scene into an automation case."""
