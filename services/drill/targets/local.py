"""The local stack of one run folder (stack/supervisor.py) as a drill target."""

from __future__ import annotations

from ...app import open_stack
from ...config import Settings
from ...stack.supervisor import Stack
from .base import State, Target

# The supervisor's words for a component's state.
STATES = {"running": State.UP, "external": State.UP, "paused": State.PAUSED, "stopped": State.STOPPED,
          "dead": State.DEAD, "not started": State.ABSENT}


class LocalTarget(Target):
    kind = "local"
    required = ("kafka", "producer", "ingest", "serving", "riders", "monitor")

    def __init__(self, settings: Settings, stack: Stack | None = None) -> None:
        super().__init__(settings)
        self.stack = stack or open_stack(settings)

    def components(self) -> dict[str, State]:
        # A service `up` skipped (no model yet) has a record but no process: absent, not external.
        return {s.name: State.ABSENT if "skipped" in s.endpoints else STATES.get(s.state, State.DEAD)
                for s in self.stack.status()}

    def chaos(self, action: str, component: str) -> str:
        return self.stack.chaos(action, component)

    def endpoint(self, component: str, name: str) -> str | None:
        return self.stack.endpoint(component, name)

    def resolve_model(self, model: str) -> str:
        """A variant → its newest model trained on the whole history (drills start from those, not from
        a candidate's retrain on the last minutes); a tag → itself."""
        from ...models.control import baseline_tag

        return baseline_tag(self.settings, model)
