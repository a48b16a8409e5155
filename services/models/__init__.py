"""The models: the BentoML model store, which ones answer (live, canary, shadow), and changing that from outside serving."""
