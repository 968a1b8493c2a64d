"""Registry exports: one reader per layout into one row shape, classification, decisions, merge."""
