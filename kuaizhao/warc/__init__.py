"""WARC files: the archive itself. Framework-free: no Django, no Scrapy.

:class:`WarcWriter` appends captures (request, response or revisit, metadata) to
gzip-compressed WARC/1.1 files; :func:`iter_captures` and :func:`read_capture`
read them back with payloads content-decoded.
"""

from kuaizhao.warc.errors import WarcError
from kuaizhao.warc.reader import WarcCapture, iter_captures, list_warc_files, read_capture
from kuaizhao.warc.writer import CaptureRef, PriorCapture, WarcWriter

__all__ = [
    "CaptureRef",
    "PriorCapture",
    "WarcCapture",
    "WarcError",
    "WarcWriter",
    "iter_captures",
    "list_warc_files",
    "read_capture",
]
