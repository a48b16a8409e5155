"""Process faults through the stack supervisor: kill -9, pause (SIGSTOP), stop, restart."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict

from ..targets import State
from .base import FaultContext, Injector


class ComponentParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    component: Literal["kafka", "redis", "producer", "ingest", "serving", "monitor"]


class ProcessFault(Injector):
    family = "process"
    Params = ComponentParams
    action: ClassVar[str] = ""
    undo: ClassVar[str | None] = None

    def inject(self, ctx: FaultContext, params: ComponentParams) -> str:
        return ctx.target.chaos(self.action, params.component)

    def recover(self, ctx: FaultContext, params: ComponentParams) -> str:
        if self.undo is None:
            return f"{self.kind} {params.component}: nothing to undo"
        state = ctx.target.components().get(params.component)
        if self.undo == "start" and state == State.UP:
            return f"{params.component} is already running"
        return ctx.target.chaos(self.undo, params.component)


class Kill(ProcessFault):
    kind, summary, action, undo = "kill", "kill -9 a component (recover: start it again)", "kill", "start"


class Pause(ProcessFault):
    kind, summary, action, undo = "pause", "freeze a component with SIGSTOP (recover: SIGCONT)", "pause", "resume"


class Stop(ProcessFault):
    kind, summary, action, undo = "stop", "stop a component cleanly (recover: start it)", "stop", "start"


class Restart(ProcessFault):
    kind, summary, action, undo = "restart", "restart a component and wait until it is ready", "restart", None


INJECTORS = (Kill, Pause, Stop, Restart)
