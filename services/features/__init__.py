"""The TripTime feature store: Feast definitions from feature_repo/, the stack's store in the run folder,
online reads, append-only offline history and the labels history."""
