"""The candidate's case study: models compared on this stack (`gameday model compare`) and the portfolio page
(`gameday portfolio`) built from the run folder."""
