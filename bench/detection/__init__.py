"""The workspace-detection benchmark: real repositories as path lists, their labels, and detection speed."""
