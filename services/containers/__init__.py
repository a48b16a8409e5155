"""Docker, as the stack and the chart see it: an engine that answers (or one started here),
the project's image names, and a running container as the supervisor handles it."""
