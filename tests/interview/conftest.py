# The drill tests' real stack (Kafka, ingest, producer, serving, riders, monitor, trained models).
from ..drill.conftest import drill_stack  # noqa: F401
