"""The crawler: one Scrapy spider for every outlet, recording every response to WARC files.

Imports only :mod:`kuaizhao.lib`, :mod:`kuaizhao.warc` and :mod:`kuaizhao.conf`
(never Django, never a database). Entry points: :func:`kuaizhao.crawler.run.crawl`
and ``python -m kuaizhao.crawler``.
"""
