"""Paper records: safe loading, schema messages, the parse cache, validation, normalization."""
