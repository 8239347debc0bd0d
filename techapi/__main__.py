"""`python -m techapi` is the `techapi` command."""

from techapi.cli import main

main()
