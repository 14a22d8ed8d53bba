"""A PM system's webhook receiver, as docs/feed.md tells one to behave, on 127.0.0.1 for tests.

It checks each request's signature with worker.feed.signing.verify and again with a few lines of hmac
written here, so a bug shared by the sender and our verify cannot pass unseen; refuses an old timestamp;
keeps each event id once (at least once delivery: a repeat is answered 200 and counted as a duplicate).
Tests tell it to fail (503, hang past the client's timeout, close the connection, refuse connections) for
the next N requests or until it recovers, or to answer slowly.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

from worker.feed.signing import SignatureRejected, verify

Failure = Literal["503", "hang", "close", "refuse"]


@dataclass(frozen=True)
class Received:
    event_id: str
    event_type: str
    body: bytes
    signature: str

    @property
    def message(self) -> dict[str, Any]:
        message: dict[str, Any] = json.loads(self.body)
        return message


def independent_check(secret: str, header: str, body: bytes, now: float) -> bool:
    """The docs' few lines, written without our code: fresh timestamp and any v1 matching."""
    fields = [part.split("=", 1) for part in header.split(",") if "=" in part]
    stamps = [value for key, value in fields if key == "t"]
    if len(stamps) != 1 or not stamps[0].isdigit() or abs(now - int(stamps[0])) > 300:
        return False
    mac = hmac.new(secret.encode("utf-8"), stamps[0].encode() + b"." + body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(mac, value) for key, value in fields if key == "v1")


@dataclass
class Receiver:
    secret: str
    url: str = ""
    accepted: list[Received] = field(default_factory=list)  # each event id once, in arrival order
    duplicates: list[Received] = field(default_factory=list)
    rejections: list[str] = field(default_factory=list)  # why each refused request was refused
    disagreements: list[str] = field(default_factory=list)  # our verify and the independent check differed
    requests: int = 0
    _failure: Failure | None = None
    _failures_left: int | None = None  # None: until recover()
    _failure_answer: str = ""
    _seen: set[str] = field(default_factory=set)
    _delay: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _released: threading.Event = field(default_factory=threading.Event)  # ends hangs at recover/stop
    _server: ThreadingHTTPServer | None = None
    _connections: set[socket.socket] = field(default_factory=set)
    _port: int = 0

    # --- what tests tell it -----------------------------------------------------------------------------

    def fail(self, how: Failure, times: int | None = None, answer: str = "Service Unavailable: import running") -> None:
        """Fail the next `times` requests (every request until recover() when None); a 503 says `answer`."""
        with self._lock:
            self._failure, self._failures_left, self._failure_answer = how, times, answer
            self._released.clear()
        if how == "refuse":  # no new connection, and the open ones cut, as when the receiver's host is down
            self._close_listener()
            with self._lock:
                for connection in self._connections:
                    connection.shutdown(socket.SHUT_RDWR)

    def recover(self) -> None:
        with self._lock:
            refused = self._failure == "refuse"
            self._failure, self._failures_left = None, None
        self._released.set()
        if refused:
            self._listen()

    def delay(self, seconds: float) -> None:
        """Answer each accepted request only after `seconds` (it is recorded first, as a real one would)."""
        self._delay = seconds

    @property
    def ids(self) -> list[str]:
        with self._lock:
            return [item.event_id for item in self.accepted]

    def messages(self) -> list[dict[str, Any]]:
        with self._lock:
            return [item.message for item in self.accepted]

    # --- running ------------------------------------------------------------------------------------------

    def start(self) -> Receiver:
        self._listen()
        return self

    def stop(self) -> None:
        self._released.set()
        self._close_listener()

    def _listen(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the channel's client expects

            def setup(self) -> None:
                super().setup()
                with receiver._lock:
                    receiver._connections.add(self.connection)

            def finish(self) -> None:
                with receiver._lock:
                    receiver._connections.discard(self.connection)
                super().finish()

            def do_POST(self) -> None:
                receiver._handle(self)

            def log_message(self, *_args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", self._port), Handler)
        server.daemon_threads = True
        self._port = server.server_address[1]
        self.url = f"http://127.0.0.1:{self._port}/hooks/claims"
        self._server = server
        threading.Thread(target=server.serve_forever, name="feed-receiver", daemon=True).start()

    def _close_listener(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()

    # --- one request --------------------------------------------------------------------------------------

    def _failure_now(self) -> Failure | None:
        with self._lock:
            self.requests += 1
            if self._failure is None:
                return None
            how = self._failure
            if self._failures_left is not None:
                self._failures_left -= 1
                if self._failures_left <= 0:
                    self._failure, self._failures_left = None, None
            return how

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        body = request.rfile.read(int(request.headers.get("Content-Length") or 0))
        how = self._failure_now()
        if how == "hang":
            self._released.wait(60)  # far past the channel's timeout; ended by recover() or stop()
            request.close_connection = True
            return
        if how in ("close", "refuse"):  # "refuse": new connections are refused, this open one is cut
            request.connection.shutdown(socket.SHUT_RDWR)
            request.close_connection = True
            return
        if how == "503":
            self._answer(request, 503, self._failure_answer.encode())
            return
        status, text = self._check(request, body)
        if status == 200 and self._delay:
            time.sleep(self._delay)
        self._answer(request, status, text.encode())

    def _check(self, request: BaseHTTPRequestHandler, body: bytes) -> tuple[int, str]:
        header = request.headers.get("Portal-Worker-Signature", "")
        now = time.time()
        try:
            verify(self.secret, header, body, now)
            ours = None
        except SignatureRejected as exc:
            ours = str(exc)
        if (ours is None) != independent_check(self.secret, header, body, now):
            with self._lock:
                self.disagreements.append(f"verify said {ours or 'valid'}; the independent check did not")
        if ours is not None:
            with self._lock:
                self.rejections.append(ours)
            return 401, "signature rejected"
        if request.headers.get("Content-Type") != "application/json":
            return self._reject(f"content type {request.headers.get('Content-Type')}")
        message = json.loads(body)
        event_id = request.headers.get("Portal-Worker-Event-Id", "")
        event_type = request.headers.get("Portal-Worker-Event-Type", "")
        if message.get("id") != event_id or message.get("type") != event_type:
            return self._reject("headers do not match the body")
        item = Received(event_id, event_type, body, header)
        with self._lock:
            if event_id in self._seen:
                self.duplicates.append(item)
            else:
                self._seen.add(event_id)
                self.accepted.append(item)
        return 200, "ok"

    def _reject(self, why: str) -> tuple[int, str]:
        with self._lock:
            self.rejections.append(why)
        return 400, why

    @staticmethod
    def _answer(request: BaseHTTPRequestHandler, status: int, text: bytes) -> None:
        request.send_response(status)
        request.send_header("Content-Type", "text/plain")
        request.send_header("Content-Length", str(len(text)))
        request.end_headers()
        request.wfile.write(text)
