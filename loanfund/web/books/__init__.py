"""The fund's books: position, account balances, the journal, capital received."""
