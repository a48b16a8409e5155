"""The end-to-end drills run on the one real stack of tests/drill_stack.py (the `drill_stack` fixture)."""
