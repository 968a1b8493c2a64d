"""What comes before a record: reference files into drafts, duplicates, screening, PRISMA, changes."""
