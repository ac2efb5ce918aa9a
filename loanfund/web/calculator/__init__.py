"""The loan calculator: preview a repayment schedule, explain it, download it."""
