"""CaseFlow's product layer: services, workflow, runner, scheduler and providers. Never imports streamlit."""
