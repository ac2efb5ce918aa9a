"""Loan products: the fund's offers, and their administration."""
