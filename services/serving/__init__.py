"""The TripTime ETA service (BentoML): online features + promoted model → ETA, predictions to Kafka."""
