"""The dead-letter topic as an operator sees it: `gameday dlq tail | stats | replay`.

Every read is bounded: it stops at the end offsets the topic had when it started (new letters
keep coming while a fault is on), with progress and a timeout.
"""
