"""`python -m bench.dashboard`: the live dashboard in a real Chromium (first render, commit to page, idle CPU)."""
