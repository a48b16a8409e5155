"""Serving as a stack component: `python -m mlgameday.serving` (which execs `bentoml serve`), ready on /readyz.

No trained model yet? Then `gameday up` skips serving instead of failing: the stack is
needed to create the history that training uses (`gameday train` fast-forwards the
producer through the stack's broker and ingest). The status table says what to run;
after `gameday train`, `gameday chaos start serving` starts it.
"""

from __future__ import annotations

from ..stack.component import LaunchSpec, StackContext
from ..stack.service import ServiceComponent
from ..stack.state import ComponentRecord

SKIPPED = "skipped: no trained model — run `gameday train`, then `gameday chaos start serving`"


class ServingComponent(ServiceComponent):
    ready_path = "/readyz"
    # bentoml serve stops its worker first, then itself.
    stop_timeout_s = 20.0

    def __init__(self) -> None:
        super().__init__("serving", "mlgameday.serving", depends_on=("kafka", "redis"))
        self._skipped = False

    def prepare(self, ctx: StackContext) -> None:
        from ..trainer.model_store import list_models, use_model_store

        use_model_store(ctx.settings)
        self._skipped = not list_models()
        if self._skipped:
            ctx.report(self.name, SKIPPED)

    def launch(self, ctx: StackContext, ports: dict[str, int]) -> LaunchSpec | None:
        if self._skipped:
            return None
        from ..trainer.model_store import bentoml_env

        spec = super().launch(ctx, ports)
        spec.env.update(bentoml_env(ctx.settings))
        spec.cwd = ctx.run.root
        return spec

    def endpoints(self, ctx: StackContext, ports: dict[str, int]) -> dict[str, str]:
        return {"skipped": SKIPPED} if self._skipped else super().endpoints(ctx, ports)

    def is_ready(self, ctx: StackContext, record: ComponentRecord) -> bool:
        return self._skipped or super().is_ready(ctx, record)
