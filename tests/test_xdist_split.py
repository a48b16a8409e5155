"""How the two workers share the drill stack's users (tests/xdist_split.py): pure logic, no worker."""

from __future__ import annotations

from .xdist_split import deal

E2E = "tests/drill/test_scenarios_e2e.py"
TABLES = "tests/drill/test_narrow_tables.py"


def test_each_drill_goes_its_own_way_and_a_module_s_other_tests_go_together() -> None:
    nodeids = [f"{TABLES}::test_status", "tests/monitor/test_drift.py::test_one", f"{TABLES}::test_alerts",
               f"{E2E}::test_control", f"{E2E}::test_drill[a]", f"{E2E}::test_drill[b]", f"{E2E}::test_drill[c]",
               f"{E2E}::test_rollback"]
    first, second = deal(nodeids, 2)
    # Units in order: the tables module, e2e's plain tests, then one per drill, dealt round-robin.
    assert first == [0, 2, 4, 6] and second == [3, 5, 7]
    assert 1 not in first + second  # not a user: shared the usual way


def test_no_user_no_share() -> None:
    assert deal(["tests/monitor/test_drift.py::test_one"], 2) == [[], []]
