"""A local web of sample Chinese news outlets for the demo, tests and crawl benchmarks.

Start it with ``python -m kuaizhao.sampleweb`` (see :mod:`kuaizhao.sampleweb.cli`), or
in-process with :class:`kuaizhao.sampleweb.server.SampleWeb`. ``GET /_control/manifest``
lists every article with what its pages show.
"""
