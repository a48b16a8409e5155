"""The interview's end-to-end round runs on the drill tests' stack (tests/drill_stack.py, `drill_stack`)."""
