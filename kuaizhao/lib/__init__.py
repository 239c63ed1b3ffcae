"""Pure helpers: no Django, no Scrapy, no network."""
