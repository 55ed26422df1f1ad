"""The API's routers: workflow (the specification's calls), library (reads), websocket (notifications)."""
