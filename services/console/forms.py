"""The interviewer's fault forms, generated from the fault declarations: one form per fault kind, one
input per parameter, with the parameter's type, bounds, default and description — which the knob
parameters take from contracts/knobs.py. A form never asks for what the service would refuse, and
what it sends is validated by the fault's own model (the error names the field)."""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass, field
from typing import Any, Literal

import annotated_types as at
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from ..drill.faults import REGISTRY, Injector
from ..drill.scenario import describe_error
from ..errors import GamedayError


class FormError(GamedayError):
    kind = "FormError"


@dataclass(frozen=True)
class Input:
    """One HTML input: its name, widget and constraints."""

    name: str
    widget: Literal["select", "number", "text", "list"]
    required: bool
    description: str = ""
    default: str = ""
    options: tuple[str, ...] = ()
    min: float | None = None
    max: float | None = None
    item: type = str  # a list's item type (str or int)

    @property
    def placeholder(self) -> str:
        if self.widget == "list":
            return "comma-separated" + (", e.g. 132, 138" if self.item is int else "")
        return "" if self.required else "(default)"


@dataclass(frozen=True)
class FaultForm:
    kind: str
    family: str
    summary: str
    inputs: list[Input] = field(default_factory=list)
    # A fault that ends by itself (a burst): the console recovers it after its seconds.
    self_ending: bool = False


def fault_forms(registry: dict[str, Injector] | None = None) -> list[FaultForm]:
    """A form for every fault kind, in the registry's order (one family after another)."""
    registry = REGISTRY if registry is None else registry
    return [FaultForm(kind, inj.family, inj.summary,
                      [field_input(name, info) for name, info in inj.Params.model_fields.items()],
                      self_ending=type(inj).recover_after_s is not Injector.recover_after_s)
            for kind, inj in registry.items()]


def field_input(name: str, info: FieldInfo) -> Input:
    annotation = _without_none(info.annotation)
    default = "" if info.is_required() else _shown(info.get_default(call_default_factory=True))
    common = {"name": name, "required": info.is_required(), "description": info.description or "", "default": default}
    if typing.get_origin(annotation) is Literal:
        return Input(widget="select", options=tuple(str(v) for v in typing.get_args(annotation)), **common)
    if annotation in (int, float):
        low, high = _bounds(info)
        return Input(widget="number", min=low, max=high, **common)
    if typing.get_origin(annotation) is list:
        (item,) = typing.get_args(annotation) or (str,)
        return Input(widget="list", item=int if item is int else str, **common)
    return Input(widget="text", **common)


def parse_form(kind: str, form: dict[str, str]) -> dict[str, Any]:
    """The submitted strings of a fault's form → its parameters, validated by the fault's model.
    An empty input is left out (its default applies; a required one is then missing)."""
    if kind not in REGISTRY:
        raise FormError(f"no fault kind {kind!r}", hint=f"known kinds: {', '.join(sorted(REGISTRY))}")
    injector = REGISTRY[kind]
    inputs = {i.name: i for i in (field_input(n, f) for n, f in injector.Params.model_fields.items())}
    unknown = sorted(set(form) - set(inputs))
    if unknown:
        raise FormError(f"{kind}: unknown parameter {', '.join(unknown)}",
                        hint=f"its parameters: {', '.join(inputs) or 'none'}")
    raw: dict[str, Any] = {}
    for name, spec in inputs.items():
        text = (form.get(name) or "").strip()
        if text:
            raw[name] = _value(spec, text)
    try:
        injector.parse(raw)
    except ValidationError as exc:
        problems = "; ".join(describe_error(err, kind) for err in exc.errors())
        raise FormError(f"{kind}: {problems}", hint="the form shows each parameter's bounds") from None
    return raw


def _value(spec: Input, text: str) -> Any:
    """A string as the input's type; what does not convert is passed on for the model to refuse by name."""
    if spec.widget == "number":
        try:
            return float(text)
        except ValueError:
            return text
    if spec.widget == "list":
        items = [part.strip() for part in text.split(",") if part.strip()]
        if spec.item is int:
            return [int(p) if p.lstrip("-").isdigit() else p for p in items]
        return items
    return text


def _without_none(annotation: Any) -> Any:
    """`float | None` → float (an optional parameter is an input that may stay empty)."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def _bounds(info: FieldInfo) -> tuple[float | None, float | None]:
    """The HTML min/max of a number (exclusive bounds are left to the model, which names them)."""
    low = high = None
    for item in info.metadata:
        if isinstance(item, (at.Ge, at.Gt)):
            low = float(getattr(item, "ge", None) if isinstance(item, at.Ge) else item.gt)
        elif isinstance(item, (at.Le, at.Lt)):
            high = float(getattr(item, "le", None) if isinstance(item, at.Le) else item.lt)
    return low, high


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(map(str, value))
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
