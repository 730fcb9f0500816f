"""End-to-end tests: real `meltano run`, target-postgres, PostgreSQL and the CallRail emulator."""
