"""`python -m mlgameday` is the `gameday` command."""

from .cli import main

main()
