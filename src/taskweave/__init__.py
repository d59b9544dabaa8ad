"""taskweave: a durable orchestration session per project for AI coding agents."""

__version__ = "0.1.0"
