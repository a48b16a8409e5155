"""The console in a real browser (Debian's chromium) over a real `gameday console` and a real stack:
the candidate opens the catalog, the interviewer starts an accelerated blind drill, the candidate's
live view updates while hiding the scenario, the interviewer injects a fault from the panel's form,
the candidate answers and sees the score, and the attempt is in the history. Bad input: no token or
a wrong one gets the 401 page; a second drill while one runs gets a clear message, not a drill.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from .conftest import ConsoleUrls

pytestmark = pytest.mark.integration

VIEWPORT = {"width": 1280, "height": 900}
DEPLOY_MS = 15 * 60_000     # the first drill starts the stack and trains the model (4 min at load 15; more at 30)
DRILL_MS = 4 * 60_000       # the accelerated healthy drill: 10 s warm-up + 45 s, plus its wrap-up
SCORE_MS = 3 * 60_000       # the answer's mitigation check waits up to --check-timeout 90 s
LIVE_MS = 10_000            # event → screen within 2 s is the aim; 10 s leaves margin on a loaded machine


def new_page(browser, seen: list[str]) -> Page:
    context = browser.new_context(viewport=VIEWPORT)
    context.on("request", lambda request: seen.append(request.url))
    return context.new_page()


def test_no_token_or_a_wrong_one_gets_the_401_page(browser, console_server: ConsoleUrls, screenshots: Path) -> None:
    page = new_page(browser, [])
    response = page.goto(console_server.base + "/")
    assert response.status == 401
    expect(page.locator("h1")).to_have_text("401 · Token required")
    expect(page.locator("body")).to_contain_text("gameday console")  # says where the URL comes from
    page.screenshot(path=screenshots / "console-401.png")

    response = page.goto(console_server.base + "/history?token=not-the-token")
    assert response.status == 401
    expect(page.locator("h1")).to_have_text("401 · Wrong token")

    # The candidate's token opens the console, not the interviewer's panel.
    page.goto(console_server.candidate)
    response = page.goto(console_server.base + "/interviewer")
    assert response.status == 403
    expect(page.locator("h1")).to_have_text("403 · Interviewer only")
    page.context.close()


def test_a_blind_drill_from_start_to_score_in_the_browser(browser, console_server: ConsoleUrls,
                                                           screenshots: Path) -> None:
    seen: list[str] = []
    candidate, interviewer = new_page(browser, seen), new_page(browser, seen)

    # The catalog: every scenario with its title, what it teaches and its duration.
    candidate.goto(console_server.candidate)
    expect(candidate).to_have_title("Catalog — gameday console")
    healthy = candidate.locator("#scenario-healthy")
    expect(healthy).to_contain_text("A healthy stack under normal traffic")
    expect(healthy).to_contain_text("Most pages are not incidents")
    expect(healthy).to_contain_text("accelerated 55s")
    candidate.screenshot(path=screenshots / "console-catalog.png", full_page=True)

    # The interviewer starts an accelerated blind drill of a scenario of their choice.
    interviewer.goto(console_server.interviewer)
    interviewer.goto(console_server.base + "/")
    row = interviewer.locator("#scenario-healthy")
    row.locator("select[name=mode]").select_option("accelerated")
    row.locator("input[name=blind]").check()
    row.get_by_role("button", name="Start").click()
    interviewer.wait_for_url("**/interviewer")
    expect(interviewer.locator("#drill-title")).to_have_text("A healthy stack under normal traffic")

    # A second drill while one runs: a clear message, and no second drill.
    candidate.goto(console_server.base + "/")
    with candidate.expect_navigation() as second:
        candidate.locator("#scenario-data-drift").get_by_role("button", name="Start").click()
    assert second.value.status == 409
    expect(candidate.locator("body")).to_contain_text("is already running")
    expect(candidate.locator("body")).to_contain_text("one drill at a time")
    candidate.screenshot(path=screenshots / "console-second-drill.png")

    # The candidate's live view: it updates as the drill deploys and runs, and names nothing.
    candidate.goto(console_server.base + "/live")
    expect(candidate.locator("#drill-title")).to_have_text("a hidden scenario")
    expect(candidate.locator("#panel")).to_have_count(0)
    expect(candidate.locator("#drill-line")).not_to_be_empty(timeout=LIVE_MS)
    expect(candidate.locator("#drill-meta")).to_contain_text(re.compile("running|failed"), timeout=DEPLOY_MS)
    assert "failed" not in candidate.locator("#drill-meta").inner_text(), candidate.locator("#drill-outcome").inner_text()
    # The interviewer injects a fault by hand at once (the accelerated drill lasts 55 s), from the
    # form generated from its declaration.
    interviewer.locator("#fault-burst summary").click()
    form = interviewer.locator("#fault-burst form")
    expect(form.locator("input[name=multiply]")).to_have_attribute("max", "100.0")
    form.locator("input[name=multiply]").fill("2")
    form.locator("input[name=seconds]").fill("5")
    clicked = time.monotonic()
    form.get_by_role("button", name="Inject").click()
    expect(interviewer.locator("#panel-result")).to_have_class("result ok", timeout=LIVE_MS)
    injected = time.monotonic()
    burst_row = interviewer.locator("#timeline tr[data-kind=fault][data-name=burst]")
    expect(burst_row).to_be_visible(timeout=LIVE_MS)
    print(f"\nInject clicked → injected (the producer's admin call) in {injected - clicked:.2f}s, "
          f"→ on the interviewer's timeline in {time.monotonic() - clicked:.2f}s")
    expect(interviewer.locator("#hand-faults li[data-kind=burst]")).to_be_visible(timeout=LIVE_MS)

    # The candidate's view updates as the signals are sampled, and never shows the fault.
    expect(candidate.locator("#components tr[data-component=serving] .state")).to_have_text("up", timeout=LIVE_MS)
    first_plot = candidate.locator("#plots .plot[data-points]").first
    expect(first_plot).to_be_visible(timeout=LIVE_MS * 3)
    series = first_plot.get_attribute("data-series")
    points = int(first_plot.get_attribute("data-points"))
    plot = candidate.locator(f"#plot-{series}")
    expect(plot).not_to_have_attribute("data-points", str(points), timeout=LIVE_MS * 2)
    # ... and the plot draws every sample it got, not only its first ones.
    candidate.wait_for_function("name => { const node = document.getElementById(`plot-${name}`);"
                                " return node.querySelectorAll('.scatterlayer path.point').length"
                                " === Number(node.dataset.points); }", arg=series, timeout=LIVE_MS)
    expect(candidate.locator("#timeline tr[data-name=burst]")).to_have_count(0)
    assert "healthy" not in candidate.locator("main").inner_text()
    candidate.screenshot(path=screenshots / "console-live.png", full_page=True)

    expect(interviewer.locator("#timeline tr[data-kind=recover][data-name=burst]")).to_be_visible(timeout=30_000)
    # The monitor's windows of this drill, each with a link to its Evidently report, served by the console.
    report_link = interviewer.locator("#windows a.report").first
    expect(report_link).to_be_visible(timeout=DRILL_MS)
    href = report_link.get_attribute("href")
    report = interviewer.context.request.get(console_server.base + href)
    saved = console_server.run_dir / "data" / "monitor" / "reports" / href.rsplit("/", 1)[-1]
    assert report.status == 200 and report.body() == saved.read_bytes()
    assert "drawDashboard" in report.text()  # Evidently's own report page
    interviewer.screenshot(path=screenshots / "console-interviewer.png", full_page=True)

    # The drill pages the candidate and waits, attached, for the answer.
    expect(candidate.locator("#drill-outcome")).to_contain_text("answer in the candidate panel", timeout=DRILL_MS)
    expect(candidate.locator("#drill-outcome")).to_contain_text("Paged:")
    expect(interviewer.locator("#drill-meta")).to_contain_text("running")
    candidate.goto(console_server.base + "/answer")
    answer = candidate.locator("#answer-form")
    answer.locator("select[name=signal]").select_option("")
    answer.locator("select[name=component]").select_option("none")
    answer.locator("select[name=root_cause]").select_option("no-incident")
    answer.locator("select[name=fix]").select_option("no-action")
    answer.locator("textarea[name=reasoning]").fill("Drift share and MAE stayed in their bands; one short burst "
                                                     "of traffic, absorbed. No incident: nothing to touch.")
    answer.get_by_role("button", name="Submit the answer").click()
    expect(candidate.locator("#score-total")).to_be_visible(timeout=SCORE_MS)
    expect(candidate.locator("#revealed-scenario")).to_have_text("healthy")
    expect(candidate.locator("#levels tr[data-level=root_cause] td").nth(1)).to_have_text("100%")
    expect(candidate.locator("#levels tr[data-level=localization] td").nth(1)).to_have_text("100%")
    expect(candidate.locator("#reasoning")).to_contain_text("No incident")
    total = candidate.locator("#score-total").inner_text()
    candidate.screenshot(path=screenshots / "console-answer.png", full_page=True)

    # The history: the attempt, its score, and its debrief opening in the page.
    candidate.goto(console_server.base + "/history")
    attempt = candidate.locator("#history tr[data-scenario=healthy]")
    expect(attempt).to_have_count(1)
    expect(attempt.locator("td.score")).to_have_text(total)
    expect(candidate.locator("#progress-plot .main-svg").first).to_be_visible(timeout=LIVE_MS)
    candidate.screenshot(path=screenshots / "console-history.png", full_page=True)
    attempt.get_by_role("link", name="debrief").click()
    debrief = candidate.frame_locator("#debrief")
    expect(debrief.locator("body")).to_contain_text("healthy", timeout=LIVE_MS)

    # Nothing came from a network: every request went to the console itself.
    foreign = [url for url in seen if not url.startswith((console_server.base, "data:", "about:"))]
    assert seen and not foreign, foreign
