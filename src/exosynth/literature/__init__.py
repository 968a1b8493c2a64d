"""Before a record exists: reference files into drafts, duplicates, screening, PRISMA, changes."""
