"""`gameday console`: a local web app over the drill core — catalog, live drill, interviewer and candidate panels, history."""
