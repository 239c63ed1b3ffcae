"""Operators' views of the archive: crawl status and metrics."""
