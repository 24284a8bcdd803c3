"""cohear: the shell (settings, store, auth and roles, audit log, jobs, app, CLI)."""

__version__ = "0.1.0"
