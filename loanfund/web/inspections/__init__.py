"""Post-disbursement inspections: the inspector's list, the visit form, the minutes."""
