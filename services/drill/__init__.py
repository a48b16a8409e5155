"""The drill engine: scenarios on the live stack — deploy, break, explain (see README.md)."""
