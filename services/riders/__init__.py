"""The rider app: asks serving for an ETA for every live trip request (a stack component)."""
