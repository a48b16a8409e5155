"""Training of the ETA model variants on point-in-time-correct features, into the BentoML model store."""
