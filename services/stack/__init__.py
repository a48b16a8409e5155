"""The local stack: real infrastructure and services as supervised processes in a run folder."""
