"""The HTTP client that rows and setup steps are sent with: a request the server dropped unread is sent again.

Some servers close a kept-alive connection just as the next request goes out on it (uvicorn does after
an unhandled exception: the row after a 500 would fail with "connection reset" though the server never
read it). httpx reports that as ReadError or RemoteProtocolError and discards the connection; the
transport below sends the request once more, on a new one. Exported pytest files embed this module, so
they send as the in-app runner and the sandbox do.
"""

from __future__ import annotations

from typing import Any

import httpx


class ResendDropped(httpx.HTTPTransport):
    """httpx's transport, sending a request once more when the connection it went out on was dropped."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return super().handle_request(request)
        except (httpx.ReadError, httpx.RemoteProtocolError):
            return super().handle_request(request)


def row_client(base_url: str, headers: Any, timeout: float) -> httpx.Client:
    """A client for ``base_url`` sending ``headers`` with every request."""
    return httpx.Client(base_url=base_url, headers=headers, timeout=timeout, transport=ResendDropped())
