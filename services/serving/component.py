"""Serving as a stack component: `python -m mlgameday.serving` (which execs `bentoml serve`), ready on /readyz.

No trained model yet? Then `gameday up` skips serving instead of failing (the stack's
catalogue gives it that precondition): the stack is needed to create the history that
training uses (`gameday train` fast-forwards the producer through the stack's broker and
ingest). The status table says what to run.
"""

from __future__ import annotations

from typing import Callable

from ..config import Settings
from ..stack.component import LaunchSpec, StackContext
from ..stack.service import ServiceComponent


class ServingComponent(ServiceComponent):
    ready_path = "/readyz"
    # bentoml serve stops its worker first, then itself.
    stop_timeout_s = 20.0

    def __init__(self, skip_unless: Callable[[Settings], str | None] | None = None) -> None:
        super().__init__("serving", "mlgameday.serving", depends_on=("kafka", "redis"), skip_unless=skip_unless)

    def launch(self, ctx: StackContext, ports: dict[str, int]) -> LaunchSpec | None:
        spec = super().launch(ctx, ports)
        if spec is None:
            return None
        from ..models.store import bentoml_env

        spec.env.update(bentoml_env(ctx.settings))
        spec.cwd = ctx.run.root
        return spec
