"""The service against clients it did not write: bad rows in a batch, TLC's unknown zones, forms and
multipart bodies, a body of 110 MB, a web page posting to /admin, a foreign Host — each gets its own
4xx (one log line), never a 500, and nothing changes without the run folder's admin key."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

import httpx
import psutil
import pytest
from openapi_spec_validator import validate

from mlgameday.stack.process import ProcessRef

from .helpers import trip

pytestmark = pytest.mark.integration  # needs a real broker / server


def test_a_bad_row_gets_its_own_error_and_the_others_their_eta(server):
    rows = [trip("good-1", 161), {**trip("tlc-unknown", 161), "pickup_zone": 264}, trip("good-2", 132),
            "not a trip", {**trip("neg", 161), "trip_distance": -1, "surge": 2}, {"trip_id": "half"}, trip("good-3", 1)]
    refused_before = server.metric("gameday_serving_rows_refused_total")
    response = server.client.post("/predict_batch", json={"trips": rows})
    assert response.status_code == 200, response.text
    body = response.json()
    answers = body["predictions"]
    assert len(answers) == len(rows) and body["rejected"] == 4
    assert [a["trip_id"] for a in answers] == ["good-1", "tlc-unknown", "good-2", None, "neg", "half", "good-3"]
    assert "pickup_zone" in answers[1]["error"] and "263" in answers[1]["error"]
    assert "should be an object" in answers[3]["error"]
    assert "trip_distance" in answers[4]["error"] and "surge: unexpected field" in answers[4]["error"]
    assert "pickup_zone: missing" in answers[5]["error"]
    for i in (0, 2, 6):
        single = server.client.post("/predict", json=rows[i]).json()
        assert answers[i]["eta_s"] == pytest.approx(single["eta_s"], abs=1e-3) and "error" not in answers[i]
    assert server.metric("gameday_serving_rows_refused_total") == refused_before + 4


def test_a_batch_of_only_bad_rows_is_answered_row_by_row(server):
    response = server.client.post("/predict_batch", json={"trips": [{**trip("a", 265)}, {**trip("b", 0)}]})
    assert response.status_code == 200 and response.json()["rejected"] == 2


@pytest.mark.parametrize("kind, send", [
    ("multipart", lambda c: c.post("/predict", files={"trip": ("trip.json", b'{"trip_id": "x"}', "application/json")})),
    ("form", lambda c: c.post("/predict", data={"trip_id": "x", "pickup_zone": "161"})),
    ("text/plain", lambda c: c.post("/predict_batch", content=b'{"trips": []}', headers={"Content-Type": "text/plain"})),
    ("no content type", lambda c: c.post("/predict", content=b'{"trip_id": "x"}', headers={"Content-Type": ""})),
    ("pickle", lambda c: c.post("/predict", content=b"\x80\x04N.",
                                headers={"Content-Type": "application/vnd.bentoml+pickle"})),
])
def test_bodies_that_are_not_json_get_415(server, kind, send):
    response = send(server.client)
    assert response.status_code == 415, (kind, response.status_code, response.text)
    assert "application/json" in response.json()["error"]


def raw_request(url: str, head: str, body_parts: list[bytes], pause_s: float = 0.0) -> tuple[int, float]:
    """Send a request by hand (a client that does not stop at a 413): (status, seconds to the answer)."""
    parts = urlsplit(url)
    started = time.monotonic()
    with socket.create_connection((parts.hostname, parts.port), timeout=20) as sock:
        sock.sendall(head.encode())
        try:
            for part in body_parts:
                sock.sendall(part)
                time.sleep(pause_s)
        except OSError:  # the server answered and closed while the body was still coming
            pass
        answer = sock.recv(4096).decode(errors="replace")
    return int(answer.split(" ", 2)[1]), time.monotonic() - started


def test_a_110_mb_body_is_refused_before_it_is_read(server):
    host = urlsplit(server.url).netloc
    # Declared: refused on the Content-Length, with a byte of the body sent.
    status, seconds = raw_request(server.url, f"POST /predict_batch HTTP/1.1\r\nHost: {host}\r\n"
                                  "Content-Type: application/json\r\nContent-Length: 110000000\r\n\r\n", [b"{"])
    assert status == 413 and seconds < 5
    # Streamed without a length: refused once it passes the limit (8 MB), not after 110 MB.
    chunk = b"x" * 1_000_000
    framed = [f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"] * 110
    status, seconds = raw_request(server.url, f"POST /predict_batch HTTP/1.1\r\nHost: {host}\r\n"
                                  "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n", framed)
    assert status == 413
    assert server.metric("gameday_serving_requests_total", endpoint="predict_batch", status="413") >= 2
    assert server.client.get("/readyz").status_code == 200  # and the service is fine


def test_every_4xx_is_one_log_line(server):
    before = server.log_path.read_text(errors="replace").splitlines()
    bad = [server.client.post("/predict", json={**trip("x", 161), "passenger_count": "many"}),   # BentoML refuses
           server.client.post("/predict", content=b"{not json", headers={"Content-Type": "application/json"}),
           server.client.post("/predict", data={"a": "b"}),                                      # the edge refuses
           httpx.post(server.url + "/admin/promote", json={"tag": "worse"})]                     # no key
    assert [r.status_code for r in bad] == [400, 400, 415, 401]
    deadline = time.monotonic() + 10  # the worker's output reaches the log through bentoml's supervisor
    while len(server.log_path.read_text(errors="replace").splitlines()) < len(before) + len(bad) \
            and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1.0)  # and nothing more comes: a traceback would be more lines
    new = server.log_path.read_text(errors="replace").splitlines()[len(before):]
    assert len(new) == len(bad), new
    assert not any("Traceback" in line for line in new), new
    assert "passenger_count" in new[0] and "415" in new[2] and "401" in new[3]


def test_admin_needs_the_key_and_a_web_page_cannot_change_anything(server, trained_run):
    live = server.client.get("/admin/models").json()["live"]["tag"]
    worse = trained_run.models["worse"].tag
    attempts = [
        # A page in the user's browser: a "simple" cross-origin POST (no preflight), no key.
        httpx.post(server.url + "/admin/promote", content=f'{{"tag": "{worse}"}}'.encode(),
                   headers={"Content-Type": "text/plain", "Origin": "http://evil.example"}),
        httpx.post(server.url + "/admin/faults", json={"model_latency_ms": 5000}),
        httpx.post(server.url + "/admin/promote", json={"tag": worse}, headers={"Authorization": "Bearer guess"}),
        # A page on a name that resolves to 127.0.0.1 (DNS rebinding), even holding the key.
        server.client.post("/admin/promote", json={"tag": worse}, headers={"Host": "rebind.example"}),
        httpx.get(server.url + "/admin/models"),
    ]
    assert [r.status_code for r in attempts] == [403, 401, 401, 403, 401], [r.text for r in attempts]
    assert server.client.get("/admin/models").json()["live"]["tag"] == live
    assert server.client.get("/admin/faults").json()["model_latency_ms"] == 0
    # The predictions are guarded by the Host rule too (a rebinding page could flood them).
    assert server.client.post("/predict", json=trip("h", 161), headers={"Host": "rebind.example"}).status_code == 403


def test_the_openapi_document_is_valid_and_covers_every_route(server):
    document = server.client.get("/docs.json").json()
    validate(document)  # raises on any violation of its declared version
    assert document["openapi"] == "3.1.0"
    assert set(document["paths"]) == {"/predict", "/predict_batch", "/readyz", "/livez", "/healthz", "/metrics",
                                      "/admin/faults", "/admin/models", "/admin/promote"}
    zone = document["components"]["schemas"]["TripRequest"]["properties"]["pickup_zone"]
    assert (zone["minimum"], zone["maximum"]) == (1, 263)


def test_status_memory_includes_the_worker(server):
    """`gameday status` sums the process group: bentoml's supervisor is small, its worker holds the models."""
    members = ProcessRef(server.proc.pid, psutil.Process(server.proc.pid).create_time()).group_memory()
    assert len(members) >= 3, members  # supervisor, worker, prediction publisher
    leader_rss = members[0][2]
    assert max(rss for _, _, rss in members[1:]) > leader_rss, members
