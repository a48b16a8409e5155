"""The trip simulator: a seeded NYC-like city emitting trips.requested and (late) trips.completed."""
