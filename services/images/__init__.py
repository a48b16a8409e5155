"""Building the project's images with no registry (`gameday images build`, `make images`):
a Debian base from the machine's apt mirror, the Python runtime, the project, Kafka and Redis.
Above the stack: the Kafka image is the local broker's jars and logging config."""
