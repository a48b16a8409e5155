"""What every TripTime service process shares: JSON logs, the admin HTTP server, shutdown."""
