"""The fault docs are generated from the one declaration of each knob (contracts/knobs.py) and the fault
kinds (drill/faults/): scenarios/FORMAT.md holds them as generated, and a fault's parameters take the
bounds of the knob they turn."""

from __future__ import annotations

import subprocess
import sys

import pytest
from pydantic import ValidationError

from mlgameday.contracts.knobs import KNOBS, ServingFaults
from mlgameday.drill.catalog import default_scenarios_dir
from mlgameday.drill.faults import REGISTRY
from mlgameday.drill.faults.docs import BEGIN, END, fault_docs, replace_block
from mlgameday.drill.faults.knobs import KnobFault, ListKnobFault


def test_format_md_holds_the_generated_fault_docs() -> None:
    committed = (default_scenarios_dir() / "FORMAT.md").read_text()
    assert BEGIN in committed and END in committed
    assert replace_block(committed, fault_docs(REGISTRY)) == committed, (
        "scenarios/FORMAT.md's fault docs are stale: regenerate the block between its markers with "
        "`gameday chaos kinds --markdown`")


def test_the_cli_prints_the_same_block() -> None:
    done = subprocess.run([sys.executable, "-m", "mlgameday", "chaos", "kinds", "--markdown"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout == fault_docs(REGISTRY)


def test_every_knob_fault_turns_declared_knobs_and_recovers_to_their_off_defaults() -> None:
    for kind, injector in REGISTRY.items():
        if not isinstance(injector, KnobFault):
            continue
        declared = KNOBS[injector.component].model_fields
        turned = (injector.list_knob,) if isinstance(injector, ListKnobFault) else injector.turns
        assert turned and set(turned) <= set(declared), kind
        assert injector.off == {name: declared[name].get_default(call_default_factory=True) for name in turned}, kind
        KNOBS[injector.component].model_validate(injector.off)  # the service takes its own "off"


def test_a_fault_parameter_has_the_bounds_of_its_knob() -> None:
    params = REGISTRY["model_latency"].Params
    limit = next(m.le for m in ServingFaults.model_fields["model_latency_ms"].metadata if hasattr(m, "le"))
    params.model_validate({"latency_ms": limit})
    with pytest.raises(ValidationError):
        params.model_validate({"latency_ms": limit + 1})  # what the service would refuse, refused up front
    with pytest.raises(ValidationError):
        REGISTRY["rate"].Params.model_validate({"multiply": 101})
