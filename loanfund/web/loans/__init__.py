"""Loans: contract, tranches, schedule and money."""
