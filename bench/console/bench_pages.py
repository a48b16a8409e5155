"""How fast the console's pages load in a real browser (Debian's chromium, headless, via Playwright).

For each page — catalog, live drill, interviewer panel, candidate panel, history — the median of
the browser's own navigation timing (request start → load event: the HTML, its CSS and scripts,
plotly.js included, parsed and run) over --repeat loads, after one unmeasured load. The baseline, measured in the same run
and the same browser: the same pages' HTML, saved once, served as static files by Python's
http.server (no rendering, the files on disk), loaded alternately with the console's. Prints JSON lines, one per
page, then a summary with the worst page and the ratio to its baseline. The plots' script (plotly.js,
3.5 MB) comes after the load event: for the pages with plots, `plotly_ready_ms` is when it is there.

    .venv/bin/python bench/console/bench_pages.py              # a fresh run folder (no drill yet)
    .venv/bin/python bench/console/bench_pages.py --run-dir .gameday   # over a folder with a history
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

CHROMIUM = os.environ.get("GAMEDAY_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
PAGES = {"catalog": "/", "live": "/live", "interviewer": "/interviewer", "candidate": "/answer", "history": "/history"}
PLOT_PAGES = ("live", "interviewer")  # the history plots only once a blind drill is answered
TARGET_MS = 300.0
NAVIGATION_MS = "(() => { const n = performance.getEntriesByType('navigation')[0]; return n.loadEventEnd - n.requestStart; })()"


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # one JSON line per page is the output
        pass


class QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:  # a page left mid-load: a broken pipe, no news
        pass


def start_console(run_dir: Path) -> tuple[subprocess.Popen, dict[str, str]]:
    gameday = shutil.which("gameday", path=str(Path(sys.executable).parent))
    log = run_dir / "console-bench.log"
    process = subprocess.Popen([gameday, "console"],
                               env={**os.environ, "GAMEDAY_RUN_DIR": str(run_dir), "COLUMNS": "400"},
                               stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        urls = dict(re.findall(r"^\s*(candidate|interviewer):\s+(\S+)", log.read_text(), re.M))
        if len(urls) == 2:
            return process, urls
        if process.poll() is not None:
            break
        time.sleep(0.2)
    process.kill()
    sys.exit(f"gameday console did not start:\n{log.read_text()}")


def load_ms(page, url: str) -> float:
    page.goto(url, wait_until="load")
    return page.evaluate(NAVIGATION_MS)


def plots_ready_ms(page, url: str) -> float | None:
    """For a page that always plots (live, interviewer): request start → plotly.js loaded after the page."""
    page.goto(url, wait_until="load")
    page.wait_for_function("performance.getEntriesByName('plotly-ready').length > 0", timeout=30_000)
    return page.evaluate("performance.getEntriesByName('plotly-ready')[0].startTime"
                         " - performance.getEntriesByType('navigation')[0].requestStart")


def interleaved(page, console_url: str, static_url: str, repeat: int) -> tuple[list[float], list[float]]:
    """Both once unmeasured (the browser's caches warm: plotly.js compiled once), then alternated."""
    load_ms(page, console_url), load_ms(page, static_url)
    console_ms, static_ms = [], []
    for _ in range(repeat):
        console_ms.append(load_ms(page, console_url))
        static_ms.append(load_ms(page, static_url))
    return console_ms, static_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run-dir", type=Path, help="the console's run folder (default: a fresh one)")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--quick", action="store_true", help="5 loads a page")
    args = parser.parse_args()
    repeat = 5 if args.quick else args.repeat
    run_dir = args.run_dir.resolve() if args.run_dir else Path(tempfile.mkdtemp(prefix="console-bench-"))
    process, urls = start_console(run_dir)
    base = urls["candidate"].split("/?")[0]
    static_dir = Path(tempfile.mkdtemp(prefix="console-static-"))
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
            page = browser.new_context().new_page()
            page.goto(urls["interviewer"])  # both cookies: every page opens
            page.goto(urls["candidate"])
            # The baseline's files: each page's HTML as served, its scripts and styles beside it.
            for name, path in PAGES.items():
                (static_dir / f"{name}.html").write_text(page.goto(base + path).text())
            for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', (static_dir / "live.html").read_text()):
                target = static_dir / asset.lstrip("/")
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(page.request.get(base + asset).body())
            handler = functools.partial(QuietHandler, directory=str(static_dir))
            baseline = QuietServer(("127.0.0.1", 0), handler)
            threading.Thread(target=baseline.serve_forever, daemon=True).start()
            static_base = f"http://127.0.0.1:{baseline.server_address[1]}"

            worst = None
            for name, path in PAGES.items():
                console_ms, static_ms = interleaved(page, base + path, f"{static_base}/{name}.html", repeat)
                row = {"page": name, "path": path, "console_ms_median": round(statistics.median(console_ms), 1),
                       "console_ms_max": round(max(console_ms), 1),
                       "static_ms_median": round(statistics.median(static_ms), 1)}
                row["ratio"] = round(row["console_ms_median"] / max(row["static_ms_median"], 0.1), 2)
                if name in PLOT_PAGES:
                    plots = [plots_ready_ms(page, base + path) for _ in range(min(repeat, 5))]
                    row["plotly_ready_ms_median"] = round(statistics.median(plots), 1)
                print(json.dumps(row), flush=True)
                if worst is None or row["console_ms_median"] > worst["console_ms_median"]:
                    worst = row
            baseline.shutdown()
            browser.close()
        print(json.dumps({"summary": True, "worst_page": worst["page"], "worst_ms_median": worst["console_ms_median"],
                          "its_static_ms_median": worst["static_ms_median"], "ratio": worst["ratio"],
                          "target_ms": TARGET_MS, "met": worst["console_ms_median"] < TARGET_MS,
                          "load_average": round(os.getloadavg()[0], 1), "repeat": repeat}), flush=True)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
        shutil.rmtree(static_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
