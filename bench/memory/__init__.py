"""What N agents' servers cost in memory: N stdio servers against one HTTP daemon: `python -m bench.memory`."""
