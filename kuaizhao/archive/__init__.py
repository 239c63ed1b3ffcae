"""The catalogue: outlets, categories, articles and their captures, derived from the WARCs."""
