"""tap-callrail benchmark suite (issue 6): `python -m benchmarks [--quick]`. See benchmarks/README.md."""
