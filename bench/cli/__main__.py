"""`python -m bench.cli` runs the `bench` command."""

from bench.cli import main

main()
