"""Who may open the console: the token of the printed URL (per role, derived from the admin key), then
its cookie; a missing or wrong token gets the 401 page, a foreign Origin or Host the 403 one."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from mlgameday.config import load_settings
from mlgameday.console.app import create_app
from mlgameday.console.auth import CANDIDATE, INTERVIEWER, console_token, cookie_name
from mlgameday.console.live import Console
from mlgameday.runtime.admin_key import token_path

BASE = "http://127.0.0.1:8686"


@pytest.fixture
def settings(tmp_path: Path):
    return load_settings(run_dir=tmp_path / "run")


@pytest.fixture
def client(settings) -> TestClient:
    return TestClient(create_app(Console(settings)), base_url=BASE, follow_redirects=False)


def test_tokens_are_per_role_derived_from_the_admin_key_and_follow_it(settings) -> None:
    candidate, interviewer = console_token(settings, CANDIDATE), console_token(settings, INTERVIEWER)
    assert candidate != interviewer and len(candidate) == 32
    key = token_path(settings.run_path).read_text()
    assert key not in (candidate, interviewer)  # the URL never carries the admin key itself
    token_path(settings.run_path).write_text("another key")
    assert console_token(settings, CANDIDATE) != candidate


def test_no_token_and_a_wrong_token_get_the_401_page(client: TestClient) -> None:
    for path in ("/", "/live", "/history", "/events", "/answer"):
        missing = client.get(path)
        assert missing.status_code == 401, path
        assert "Token required" in missing.text and "gameday console" in missing.text
    wrong = client.get("/?token=not-the-token")
    assert wrong.status_code == 401 and "Wrong token" in wrong.text
    assert client.post("/drills", data={"scenario": "healthy"}).status_code == 401


def test_the_token_sets_a_cookie_and_leaves_the_address_bar(client: TestClient, settings) -> None:
    token = console_token(settings, CANDIDATE)
    first = client.get(f"/history?token={token}&x=1")
    assert first.status_code == 303 and first.headers["location"] == "/history?x=1"
    cookie = first.headers["set-cookie"]
    assert cookie.startswith(f"{cookie_name(8686, CANDIDATE)}={token}") and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    page = client.get("/history")  # the client keeps the cookie
    assert page.status_code == 200 and "History" in page.text


def test_the_interviewer_page_needs_the_interviewer_token(client: TestClient, settings) -> None:
    client.get(f"/?token={console_token(settings, CANDIDATE)}")
    refused = client.get("/interviewer")
    assert refused.status_code == 403 and "interviewer URL" in refused.text
    assert client.get("/events?view=interviewer").status_code == 403
    client.get(f"/interviewer?token={console_token(settings, INTERVIEWER)}")
    page = client.get("/interviewer")
    assert page.status_code == 200 and "Interviewer panel" in page.text


def test_foreign_origin_and_host_are_refused_as_the_admin_listeners_do(client: TestClient, settings) -> None:
    client.get(f"/?token={console_token(settings, INTERVIEWER)}")
    posted = client.post("/drills", data={"scenario": "healthy"}, headers={"Origin": "http://evil.example"})
    assert posted.status_code == 403 and "cross-origin request from http://evil.example refused" in posted.text
    rebound = client.get("/", headers={"Host": "evil.example:8686"})
    assert rebound.status_code == 403 and "loopback names" in rebound.text
    assert client.get("/", headers={"Origin": BASE}).status_code == 200


def test_static_files_need_no_token(client: TestClient) -> None:
    assert client.get("/static/console.css").status_code == 200
    script = client.get("/static/console.js")
    assert script.status_code == 200 and "EventSource" in script.text
