"""The agent's own HTTPS port: logs, exec, attach and port-forward, for the API server only."""
