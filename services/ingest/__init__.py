"""Kafka → Feast ingest: streaming zone features, labels history, dead letters."""
