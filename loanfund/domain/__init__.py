"""The fund's own rules in pure Python: money, schedules, policy, permissions, lifecycles.

Nothing here imports Flask, SQLAlchemy, WTForms or xlsxwriter, and nothing reads the clock:
functions take ``today`` / ``as_of`` and plain values, and return plain values.
"""
