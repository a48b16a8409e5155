"""`gameday console`: the web console over the drill core (catalog, live drill, interviewer and
candidate panels, history) on a loopback port."""

from __future__ import annotations

from typing import Optional

import typer

from .common import console, state


def register(app: typer.Typer) -> None:
    app.command("console")(console_command)


def console_command(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (loopback by default)."),
    port: Optional[int] = typer.Option(None, "--port", help="Port (default 8686, or a free one when taken)."),
    check_timeout: float = typer.Option(60.0, "--check-timeout",
                                        help="Seconds an answer's mitigation check waits for the signals to recover."),
) -> None:
    """Serve the console: start drills, watch them live, inject faults by hand, answer, see the history.

    Prints two URLs with their tokens: the candidate's and the interviewer's. Ctrl-C stops it (a
    running drill is stopped and recovers its faults)."""
    from ..console.live import Console
    from ..console.server import serve

    def announce(urls) -> None:
        console.print(f"gameday console of {state.settings().run_path} (Ctrl-C to stop)\n"
                      f"  candidate:   {urls.candidate}\n"
                      f"  interviewer: {urls.interviewer}   (fault forms; sees what a blind drill hides)",
                      highlight=False, soft_wrap=True)

    serve(Console(state.settings(), check_timeout_s=check_timeout), host, port, announce)
