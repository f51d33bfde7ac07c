"""Load and latency benchmarks (run with `make bench`; see bench/README.md)."""
