"""The `taskweave` command line (`taskweave.cli.main`)."""

from taskweave.cli.main import main

__all__ = ["main"]
