"""The TripTime feature store: Feast definitions from feature_repo/, the stack's store in the run folder,
online reads, append-only offline history and the labels history.

Feast is imported here, first, with typeguard's `@typechecked` as the identity. Feast decorates its
definition classes with it, and typeguard re-parses the whole module's source for every decorated
function at import: 240 functions, 3–7 s of every process that opens the store (ingest, serving, the
trainer, `gameday features get --store`), and a check on every call after. typeguard's own decorator is a
no-op under `python -O` ("not meant for production"); the project's inputs are checked by its pydantic
contracts and its tests. Restored afterwards: nothing else in the process loses its checks.
"""

import typeguard


def _unchecked(target=None, **_options):
    return target if target is not None else _unchecked


_typechecked, typeguard.typechecked = typeguard.typechecked, _unchecked
try:
    import feast  # noqa: E402,F401  (its decorated modules: feast.feature_view, .entity, .data_source, …)
finally:
    typeguard.typechecked = _typechecked
