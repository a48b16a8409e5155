"""Ingest as a stack component: like any service, plus the feature store's data for `down --wipe`."""

from __future__ import annotations

from pathlib import Path

from ..stack.component import StackContext
from ..stack.service import ServiceComponent


class IngestComponent(ServiceComponent):
    def __init__(self) -> None:
        super().__init__("ingest", "mlgameday.ingest", depends_on=("kafka", "redis"))

    def data_paths(self, ctx: StackContext) -> list[Path]:
        # Imported here: feast takes seconds to import, and every `gameday` command builds this component.
        from ..features.store import feature_data_dir

        return [ctx.run.data_of(self.name), feature_data_dir(ctx.settings)]
