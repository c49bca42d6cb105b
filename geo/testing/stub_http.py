"""What every local stand-in for a publisher's server shares: a quiet request handler that
answers with a body, its type and, for a rate limit, a Retry-After header."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that logs nothing (pytest's output stays clean) and answers in one call."""

    def log_message(self, *args) -> None:
        pass

    def _send(
        self, status: int, body: bytes, content_type: str, retry_after: str | None = None
    ) -> None:
        self.send_response(status)
        if retry_after is not None:
            self.send_header("Retry-After", retry_after)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
