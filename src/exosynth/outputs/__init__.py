"""What people receive: the review's tables, the workbook, figures, pages, the validation ledger."""
