"""The local stack of one run folder (stack/supervisor.py) as a drill target."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...config import Settings
from ...stack.endpoints import endpoint
from .base import State, Target

if TYPE_CHECKING:
    from ...stack.supervisor import Stack

# The supervisor's words for a component's state.
STATES = {"running": State.UP, "external": State.UP, "paused": State.PAUSED, "stopped": State.STOPPED,
          "dead": State.DEAD, "not started": State.ABSENT}


class LocalTarget(Target):
    kind = "local"
    required = ("kafka", "producer", "ingest", "serving", "riders", "monitor")

    def __init__(self, settings: Settings, stack: Stack | None = None) -> None:
        super().__init__(settings)
        self._stack = stack

    @property
    def stack(self) -> Stack:
        """The supervisor, opened when first needed: an admin call needs only the run folder's endpoints
        (`gameday features get` stays well under a second without importing every component)."""
        if self._stack is None:
            from ...app import open_stack

            self._stack = open_stack(self.settings)
        return self._stack

    def components(self) -> dict[str, State]:
        # A service `up` skipped (no model yet) has a record but no process: absent, not external.
        return {s.name: State.ABSENT if "skipped" in s.endpoints else STATES.get(s.state, State.DEAD)
                for s in self.stack.status()}

    def chaos(self, action: str, component: str) -> str:
        return self.stack.chaos(action, component)

    def endpoint(self, component: str, name: str) -> str | None:
        if self._stack is not None:
            return self._stack.endpoint(component, name)
        return endpoint(self.settings, component, name)

    def resolve_model(self, model: str) -> str:
        """A variant → its newest model trained on the whole history (drills start from those, not from
        a candidate's retrain on the last minutes); a tag → itself."""
        from ...models.control import baseline_tag

        return baseline_tag(self.settings, model)
