"""Excel ledgers (xlsxwriter): rows in, workbook out. Filled in by the exports issue."""
