"""The admin key: a real producer process refuses to change its fault knobs for a caller without
the run folder's key (a web page's cross-origin text/plain POST among them), and for a foreign
Host; the gameday client path (drill target, admin_headers) has the key and turns the knob."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from kafka.admin import NewTopic

from mlgameday.config import load_settings
from mlgameday.stack.kafka.admin import admin_client
from mlgameday.runtime.admin_key import admin_headers, admin_token, refuse_origin, token_path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def producer(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """`python -m mlgameday.producer` as the stack starts it, in its own run folder; (admin URL, run folder)."""
    run_dir = tmp_path_factory.mktemp("admin-key") / "run"
    port = free_port()
    suffix = uuid.uuid4().hex[:8]
    client = admin_client(kafka_bootstrap)
    try:
        client.create_topics([NewTopic(name=f"{kind}.{suffix}", num_partitions=1, replication_factor=1)
                              for kind in ("req", "done")])
    finally:
        client.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GAMEDAY_")}
    env.update({"GAMEDAY_RUN_DIR": str(run_dir), "GAMEDAY_KAFKA__MODE": "external",
                "GAMEDAY_KAFKA__BOOTSTRAP": kafka_bootstrap, "GAMEDAY_PRODUCER__PORT": str(port),
                "GAMEDAY_PRODUCER__RATE": "5", "GAMEDAY_TOPICS__TRIPS_REQUESTED": f"req.{suffix}",
                "GAMEDAY_TOPICS__TRIPS_COMPLETED": f"done.{suffix}"})
    log = open(tmp_path_factory.mktemp("logs") / "producer.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "mlgameday.producer"], env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert proc.poll() is None, "the producer exited"
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        yield url, run_dir
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()


def knobs_untouched(url: str, run_dir: Path) -> None:
    settings = load_settings(run_dir=run_dir)
    knobs = httpx.get(url + "/faults", headers=admin_headers(settings)).json()
    assert knobs["rate_multiplier"] == 1.0 and knobs["malformed_share"] == 0.0, knobs


@pytest.mark.integration
def test_without_the_key_nothing_changes(producer) -> None:
    url, run_dir = producer
    # What a web page in the user's browser can send without a preflight: a text/plain POST.
    page = httpx.post(url + "/faults", content=b'{"malformed_share": 1.0}',
                      headers={"Content-Type": "text/plain", "Origin": "http://evil.example"})
    assert page.status_code == 403 and "cross-origin" in page.json()["error"]
    no_key = httpx.post(url + "/faults", json={"malformed_share": 1.0})
    assert no_key.status_code == 401 and "admin.token" in no_key.json()["error"]
    wrong_key = httpx.post(url + "/faults", json={"rate_multiplier": 50},
                           headers={"Authorization": "Bearer not-the-key-of-this-run-folder"})
    assert wrong_key.status_code == 401 and "wrong admin key" in wrong_key.json()["error"]
    assert httpx.get(url + "/faults").status_code == 401  # reading the knobs would un-blind a drill
    assert httpx.delete(url + "/faults").status_code == 401
    knobs_untouched(url, run_dir)


@pytest.mark.integration
def test_a_foreign_host_is_refused_even_with_the_key(producer) -> None:
    """DNS rebinding: a page at rebind.example (resolving to 127.0.0.1) is same-origin to the browser."""
    url, run_dir = producer
    key = admin_headers(load_settings(run_dir=run_dir))
    response = httpx.post(url + "/faults", json={"malformed_share": 1.0},
                          headers={**key, "Host": "rebind.example:80"})
    assert response.status_code == 403 and "Host" in response.json()["error"]
    assert httpx.get(url + "/metrics", headers={"Host": "rebind.example"}).status_code == 403
    assert httpx.get(url + "/metrics", headers={"Host": "localhost"}).status_code == 200
    knobs_untouched(url, run_dir)


@pytest.mark.integration
def test_the_key_holder_turns_the_knob_and_bad_bodies_get_413_415(producer) -> None:
    from mlgameday.drill.targets import reset_knobs, set_knobs

    url, run_dir = producer
    settings = load_settings(run_dir=run_dir)

    class ProducerTarget:  # the drill's knob path (LocalTarget needs a whole stack)
        def admin_url(self, component: str) -> str:
            return url

        def admin_headers(self) -> dict[str, str]:
            return admin_headers(settings)

    assert set_knobs(ProducerTarget(), "producer", {"rate_multiplier": 2.0})["rate_multiplier"] == 2.0
    key = admin_headers(settings)
    assert httpx.post(url + "/faults", content=b'{"rate_multiplier": 3}',
                      headers={**key, "Content-Type": "text/plain"}).status_code == 415
    huge = httpx.post(url + "/faults", content=b"{" + b" " * (2 << 20) + b"}",
                      headers={**key, "Content-Type": "application/json"})
    assert huge.status_code == 413
    reset_knobs(ProducerTarget(), "producer")
    knobs_untouched(url, run_dir)


def test_the_key_is_created_once_private_and_shared(tmp_path: Path) -> None:
    settings = load_settings(run_dir=tmp_path / "run")
    keys: list[str] = []
    threads = [threading.Thread(target=lambda: keys.append(admin_token(settings))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(keys)) == 1 and len(keys[0]) >= 40
    mode = stat.S_IMODE(token_path(settings.run_path).stat().st_mode)
    assert mode == 0o600, oct(mode)
    assert sorted(p.name for p in settings.run_path.iterdir()) == ["admin.token"]  # nothing left aside
    assert admin_token(load_settings(run_dir=tmp_path / "run", admin_token="k" * 20)) == "k" * 20


@pytest.mark.parametrize("host, origin, bind, refused", [
    ("127.0.0.1:3000", None, "127.0.0.1", False),
    ("localhost:3000", "http://localhost:3000", "127.0.0.1", False),   # the page the service serves itself
    ("[::1]:3000", None, "127.0.0.1", False),
    ("127.0.0.1:3000", "http://127.0.0.1:8080", "127.0.0.1", True),   # another local page
    ("127.0.0.1:3000", "null", "127.0.0.1", True),                    # a sandboxed or file:// page
    ("evil.example:3000", None, "127.0.0.1", True),
    ("serving.gameday.svc:3000", None, "0.0.0.0", False),             # in a cluster: the key guards
    (None, None, "127.0.0.1", True),
])
def test_origin_and_host_rules(host, origin, bind, refused) -> None:
    assert (refuse_origin(host, origin, bind) is not None) is refused
