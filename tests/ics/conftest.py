"""Fixtures for the ics provider tests: real calendars, a local HTTP server, a Radicale server."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from sched_tui.model import Appointment
from sched_tui.providers.ical_expand import Expansion, expand_calendar

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ics"


def fixture_bytes(name: str) -> bytes:
    """Return the raw bytes of one calendar in tests/fixtures/ics."""
    return (FIXTURES / name).read_bytes()


def week_range(monday: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """Return [Monday 00:00, next Monday 00:00) in `tz`."""
    start = datetime(monday.year, monday.month, monday.day, tzinfo=tz)
    return start, datetime.combine(monday + timedelta(days=7), start.time(), tz)


def expand_week(data: bytes | str, monday: date, zone: str) -> Expansion:
    """Expand a calendar over the week that starts on `monday`, in practice zone `zone`."""
    tz = ZoneInfo(zone)
    start, end = week_range(monday, tz)
    return expand_calendar(
        data, start, end, tz, therapist_id="t1", therapist_name="Dr. Test", source="test-ics"
    )


def starts(appointments: list[Appointment]) -> list[str]:
    """Return the ISO start of each appointment, for compact comparisons."""
    return [a.start.isoformat() for a in appointments]


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def fixture_server() -> Iterator[str]:
    """Serve tests/fixtures/ics over HTTP on 127.0.0.1; "/status/NNN" responds with that status.

    "/slow/NAME" waits 2 s before answering, for timeout tests.
    """

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.startswith("/status/"):
                self.send_error(int(self.path.rsplit("/", 1)[1]))
                return
            if self.path.startswith("/slow/"):
                time.sleep(2)
            name = self.path.rsplit("/", 1)[1]
            file = FIXTURES / name
            if not file.is_file():
                self.send_error(404)
                return
            body = file.read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "text/calendar; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return

    class QuietServer(ThreadingHTTPServer):
        # Clients that time out on "/slow/" close their connection early; the
        # resulting write error is expected and must not clutter the test output.
        def handle_error(self, request: object, client_address: object) -> None:
            return

    server = QuietServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def radicale(tmp_path: Path) -> Iterator[str]:
    """Run a Radicale server on 127.0.0.1 with no authentication; yield its base URL.

    Radicale 3.9 has no "none" rights backend. With auth type none every request
    counts as authenticated, so rights type "authenticated" restricts nothing.
    """
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "radicale",
        "--config",
        "",
        "--server-hosts",
        f"127.0.0.1:{port}",
        "--storage-filesystem-folder",
        str(tmp_path / "collections"),
        "--auth-type",
        "none",
        "--rights-type",
        "authenticated",
        "--logging-level",
        "warning",
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_listening(process, base)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        if process.stderr is not None:
            process.stderr.close()


def _wait_until_listening(
    process: subprocess.Popen[bytes], base: str, deadline_s: float = 20.0
) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            error = process.stderr.read().decode(errors="replace") if process.stderr else ""
            raise RuntimeError(f"radicale exited with code {process.returncode}: {error}")
        try:
            httpx.get(base + "/", timeout=0.5)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError(f"radicale did not accept connections on {base} within {deadline_s} s")


@pytest.fixture
def make_calendar() -> Callable[..., str]:
    """Return a builder of small VCALENDAR texts from VEVENT (and VTIMEZONE) bodies."""

    def build(*components: str, header: str = "") -> str:
        body = "".join(component.strip() + "\n" for component in components)
        prolog = "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//sched-tui tests//EN\n"
        text = f"{prolog}{header}{body}END:VCALENDAR\n"
        return text.replace("\n", "\r\n")

    return build
