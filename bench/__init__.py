"""Benchmark harness of Outflow: its real web, worker and beat against a receiver, a peer and a raw ceiling."""
