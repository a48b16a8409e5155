"""The port-forwards' supervisor: a forward whose process keeps ending at once (its pod gone or not
listening yet) is started again after a pause that grows, not twice a second."""

from __future__ import annotations

import sys
import threading
import time

from mlgameday.k8s.forward import RESTART_MAX_S, RESTART_MIN_S, PortForwards, restart_pause


def test_the_restart_pause_doubles_from_the_minimum_up_to_the_maximum() -> None:
    assert [restart_pause(n) for n in range(6)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert (restart_pause(0), restart_pause(10)) == (RESTART_MIN_S, RESTART_MAX_S)


def test_a_forward_that_ends_at_once_is_restarted_with_growing_pauses() -> None:
    forwards = PortForwards("nowhere")
    key = "pod/gone:9092"
    forwards.commands[key] = [sys.executable, "-c", "pass"]  # as kubectl when the pod is not running
    forwards.processes[key] = forwards._spawn(key)
    forwards._supervisor = threading.Thread(target=forwards._supervise, daemon=True)
    forwards._supervisor.start()
    try:
        time.sleep(4.2)  # restarts after ~0.5, +1, +2 s (plus the process's own life): three, not eight
        assert 2 <= forwards.restarts <= 4, forwards.restarts
    finally:
        forwards.close()
    assert forwards.processes == {}


def test_a_forward_that_cannot_listen_says_why_and_what_to_do(tmp_path) -> None:
    import pytest

    from mlgameday.k8s.errors import K8sError

    forwards = PortForwards("lane", log_dir=tmp_path)
    key = "pod/kafka-0:29092"
    said = "error: unable to listen on any of the requested ports: [{29092 29092}]"
    forwards.commands[key] = [sys.executable, "-c",  # as kubectl when the local port is taken
                              f"print('Unable to listen on port 29092: bind: address already in use'); print({said!r}); exit(1)"]
    process = forwards._spawn(key)
    with pytest.raises(K8sError) as caught:
        forwards._wait_listening(process, key, "pod/kafka-0", 29092)
    assert said in str(caught.value) and "another process holds 127.0.0.1:29092" in caught.value.hint
