"""Developer tools for tap-callrail (not installed with the tap): local PostgreSQL, quickstart."""
