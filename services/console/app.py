"""The console's pages and endpoints (Starlette): catalog, live drill, interviewer panel, candidate
panel, history, and the live stream. Pages are rendered on the server (Jinja2); the only scripts are
the console's own and plotly.js from the installed plotly package — nothing comes from a network.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..drill.answer import LEVELS, Answer
from ..drill.brief import parse_brief
from ..drill.catalog import scenario_summary
from ..drill.records import DrillRecord, list_records
from ..drill.signals import ALL_SIGNALS
from ..drill.units import format_duration
from ..errors import GamedayError
from ..monitor.records import reports_dir
from .auth import CANDIDATE, INTERVIEWER, Guard
from .forms import FormError, fault_forms, parse_form
from .live import Console, Problem
from .view import Stream, drill_header, plot_titles

HERE = Path(__file__).parent
STREAM_TICK_S = 0.25      # the stream looks for news 4 times a second: event → screen well under 2 s
HEARTBEAT_S = 15.0
# The brief's sections the candidate reads once the answer is in (before it: blind_view's).
REVEALED_SECTIONS = ("Rubric", "Root cause", "Fix")


def plotly_js() -> Path:
    """plotly.min.js of the installed plotly package (the same one the debrief inlines)."""
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def plotly_version() -> str:
    import plotly

    return plotly.__version__


class Pages:
    """Jinja2 templates with the console's globals; also renders the Guard's 401/403 pages."""

    def __init__(self) -> None:
        self.env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]),
                               trim_blocks=True, lstrip_blocks=True)
        self.env.globals.update(plotly_js=f"/static/plotly-{plotly_version()}.min.js", duration=format_duration)
        self.env.filters["seconds"] = lambda v: "–" if v is None else f"{v:.0f}s"
        self.env.filters["percent"] = lambda v: "–" if v is None else f"{v:.0%}"

    def render(self, name: str, **context: Any) -> str:
        return self.env.get_template(name).render(**context)

    def error_page(self, status: int, title: str, message: str, hint: str | None = None) -> bytes:
        return self.render("error.html", status=status, title=title, message=message, hint=hint, nav=False).encode()


def create_app(console: Console, bind_host: str = "127.0.0.1") -> Any:
    pages = Pages()

    def roles(request: Request) -> list[str]:
        return request.scope.get("state", {}).get("roles", [])

    def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        is_interviewer = INTERVIEWER in roles(request)
        context.setdefault("hidden", console.blind_hidden())
        html = pages.render(name, nav=True, interviewer=is_interviewer, active_job=console.job, status=status, **context)
        return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})

    def problem_page(request: Request, status: int, problem: Problem, title: str) -> HTMLResponse:
        return page(request, "error.html", status=status, title=title, message=problem.message, hint=problem.hint)

    # ---- catalog ---------------------------------------------------------------------------

    async def catalog(request: Request) -> HTMLResponse:
        scenarios = [scenario_summary(s) for s in console.catalog.all()]
        return page(request, "catalog.html", scenarios=scenarios, pending=console.blind_drill_running())

    async def start(request: Request) -> Response:
        form = await request.form()
        name = str(form.get("scenario") or "") or None
        try:
            console.start_drill(name, fast=form.get("mode") == "accelerated", blind=form.get("blind") == "on")
        except GamedayError as exc:
            return problem_page(request, 409, Problem.of(exc), "No second drill")
        target = "/interviewer" if INTERVIEWER in roles(request) and form.get("view") == INTERVIEWER else "/live"
        return RedirectResponse(target, status_code=303)

    async def stop(request: Request) -> Response:
        console.stop_drill()
        return RedirectResponse(request.headers.get("referer") or "/live", status_code=303)

    # ---- live drill and interviewer panel ---------------------------------------------------

    def live_page(request: Request, interviewer: bool) -> HTMLResponse:
        hidden = console.blind_hidden() and not interviewer
        return page(request, "live.html", view=INTERVIEWER if interviewer else CANDIDATE, hidden=hidden,
                    header=drill_header(console, console.job, hidden), forms=fault_forms(),
                    plots=plot_titles(), show_panel=not hidden)

    async def live(request: Request) -> HTMLResponse:
        return live_page(request, interviewer=False)

    async def interviewer(request: Request) -> HTMLResponse:
        if INTERVIEWER not in roles(request):
            return page(request, "error.html", status=403, title="Interviewer only",
                        message="This page is the interviewer's: it shows what a blind drill hides.",
                        hint="open the interviewer URL that `gameday console` printed")
        return live_page(request, interviewer=True)

    async def faults(request: Request) -> JSONResponse:
        if console.blind_hidden() and INTERVIEWER not in roles(request):
            return JSONResponse({"error": "the interviewer panel is hidden while a blind drill is on",
                                 "hint": "the interviewer injects faults from /interviewer"}, status_code=403)
        try:
            body = await request.json()
            kind, action = str(body.get("kind")), str(body.get("action"))
            if action not in ("inject", "recover"):
                raise FormError(f"action {action!r}: expected inject or recover")
            params = parse_form(kind, {str(k): str(v) for k, v in (body.get("params") or {}).items()})
            if action == "inject":
                fault = console.inject(kind, params)
                return JSONResponse({"message": fault.message, "index": fault.index})
            return JSONResponse({"message": console.recover(kind, params)})
        except (ValueError, AttributeError):
            return JSONResponse({"error": "send a JSON object {kind, action, params}"}, status_code=400)
        except GamedayError as exc:
            problem = Problem.of(exc)
            return JSONResponse({"error": f"{problem.kind}: {problem.message}", "hint": problem.hint}, status_code=400)

    async def events(request: Request) -> Response:
        wants_interviewer = request.query_params.get("view") == INTERVIEWER
        if wants_interviewer and INTERVIEWER not in roles(request):
            return JSONResponse({"error": "the interviewer's stream needs the interviewer token"}, status_code=403)
        stream = Stream(console, interviewer=wants_interviewer)

        async def feed():
            yield "retry: 1000\n\n"
            quiet = 0.0
            while not await request.is_disconnected():
                update = await asyncio.to_thread(stream.update)
                if update:
                    quiet = 0.0
                    yield f"data: {json.dumps(update, default=str)}\n\n"
                else:
                    quiet += STREAM_TICK_S
                    if quiet >= HEARTBEAT_S:
                        quiet = 0.0
                        yield ": heartbeat\n\n"
                await asyncio.sleep(STREAM_TICK_S)

        return StreamingResponse(feed(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    # ---- candidate panel -------------------------------------------------------------------

    async def answer_page(request: Request, error: Problem | None = None, given: dict | None = None,
                          status: int = 200) -> HTMLResponse:
        job = console.answer_job
        pending = console.blind_drill_running()
        result = None
        if job is not None and job.score is not None and job.folder:
            brief = Path(job.folder) / "brief.md"
            sections = parse_brief(brief) if brief.is_file() else {}
            result = {"score": job.score, "folder": Path(job.folder).name, "answer": job.answer,
                      "revealed": [(s, sections[s]) for s in REVEALED_SECTIONS if sections.get(s)],
                      "title": sections.get("Title")}
        choices = console.catalog.choices
        return page(request, "answer.html", status=status, pending=pending, job=job, result=result, error=error,
                    given=given or {}, signals=ALL_SIGNALS, components=choices.components,
                    root_causes=choices.root_causes, fixes=choices.fixes, levels=LEVELS)

    async def answer_get(request: Request) -> HTMLResponse:
        return await answer_page(request)

    async def answer_post(request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        answer = Answer(component=form.get("component", ""), root_cause=form.get("root_cause", ""),
                        fix=form.get("fix", ""), signal=form.get("signal") or None,
                        reasoning=form.get("reasoning", "").strip() or None)
        try:
            console.submit_answer(answer)
        except GamedayError as exc:
            return await answer_page(request, error=Problem.of(exc), given=form, status=400)
        return RedirectResponse("/answer", status_code=303)

    # ---- history ---------------------------------------------------------------------------

    def shown_records(request: Request) -> list[DrillRecord]:
        records = list_records(console.settings)
        if INTERVIEWER in roles(request):
            return records
        return [r for r in records if not r.awaiting_answer] + \
               [_hidden_record(r) for r in records if r.awaiting_answer]

    async def history(request: Request) -> HTMLResponse:
        records = shown_records(request)
        answered = [r for r in records if r.answered]
        progress = {"x": [r.started_at for r in answered], "score": [r.score for r in answered],
                    "answer_s": [r.time_to_answer_s for r in answered],
                    "mitigate_s": [r.time_to_mitigate_s for r in answered],
                    "label": [f"{r.scenario} ({r.id})" for r in answered]}
        return page(request, "history.html", records=list(reversed(records)), levels=LEVELS, progress=progress)

    def run_folder(request: Request) -> Path | None:
        run_id = request.path_params["run_id"]
        folder = console.settings.run_path / "drills" / run_id
        if "/" in run_id or run_id.startswith(".") or not folder.is_dir():
            return None
        return folder

    async def run(request: Request) -> Response:
        folder = run_folder(request)
        if folder is None or not (folder / "debrief.html").is_file():
            return page(request, "error.html", status=404, title="No such debrief",
                        message="This drill has no debrief (yet): a blind drill writes it once answered.",
                        hint="see the history for the drills of this run folder")
        return page(request, "run.html", run_id=folder.name)

    async def run_file(request: Request) -> Response:
        folder = run_folder(request)
        name = request.path_params["name"]
        path = (folder / name).resolve() if folder else None
        if path is None or folder.resolve() not in path.parents or not path.is_file() or path.suffix != ".html":
            return page(request, "error.html", status=404, title="Not found", message=f"no {name} in this drill")
        return FileResponse(path, media_type="text/html")

    async def report(request: Request) -> Response:
        name = request.path_params["name"]
        path = reports_dir(console.settings) / name
        if "/" in name or not name.endswith(".html") or not path.is_file():
            return page(request, "error.html", status=404, title="No such report",
                        message=f"the monitor has no report {name} (it prunes old ones)")
        return FileResponse(path, media_type="text/html")

    async def plotly(request: Request) -> Response:
        return FileResponse(plotly_js(), media_type="text/javascript",
                            headers={"Cache-Control": "public, max-age=31536000, immutable"})

    async def not_found(request: Request, exc: Exception) -> Response:
        return page(request, "error.html", status=404, title="Not found", message=f"no page {request.url.path}")

    routes = [
        Route("/", catalog), Route("/drills", start, methods=["POST"]), Route("/drills/stop", stop, methods=["POST"]),
        Route("/live", live), Route("/interviewer", interviewer), Route("/faults", faults, methods=["POST"]),
        Route("/events", events), Route("/answer", answer_get), Route("/answer", answer_post, methods=["POST"]),
        Route("/history", history), Route("/runs/{run_id}", run), Route("/runs/{run_id}/{name:path}", run_file),
        Route("/reports/{name}", report), Route(f"/static/plotly-{plotly_version()}.min.js", plotly),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(routes=routes, exception_handlers={404: not_found})
    return Guard(app, console.settings, bind_host, pages.error_page)


def _hidden_record(record: DrillRecord) -> DrillRecord:
    """A blind drill waiting for its answer, as the candidate's history shows it: nothing named."""
    from dataclasses import replace

    return replace(record, id="(hidden until answered)", scenario="(hidden until answered)", alert_counts={},
                   time_to_detect_s=None, passed=None, debrief=None)
