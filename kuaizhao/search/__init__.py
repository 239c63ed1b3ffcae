"""Search: the query parser, snippets, key phrases and the backends. No Django here; a
backend takes a DB-API connection."""
