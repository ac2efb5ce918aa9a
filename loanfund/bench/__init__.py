"""Benchmarks: scripts run by hand (``python -m loanfund.bench.<name>``), not tests."""
