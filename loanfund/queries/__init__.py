"""The read side: ``select()`` statements that return plain rows or typed values."""
