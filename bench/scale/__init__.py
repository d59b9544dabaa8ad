"""Every agent call flat as a session grows from 1,000 to 100,000 tasks, half of them blocked: `python -m bench.scale`."""
