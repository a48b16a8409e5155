"""Apache Kafka for the stack: a local KRaft broker (JVM), an external cluster, or testcontainers."""
