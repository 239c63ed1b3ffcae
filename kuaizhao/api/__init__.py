"""Machine interfaces: JSON API, CDX, Memento."""
