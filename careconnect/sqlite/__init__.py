"""SQLite with a per-process pool of connections: `ENGINE = "careconnect.sqlite"`."""
