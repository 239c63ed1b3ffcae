"""What the operators' status page counts that neither the crawlers nor the catalogue keep."""

from __future__ import annotations

from django.db import models

from kuaizhao.archive.models import Capture


class ExtractionFailure(models.Model):
    """A capture its outlet's config calls an article page from which ingest extracted no
    article (no title or no body, or an unreadable record). Derived, like the catalogue:
    ``kuaizhao reindex`` counts them again."""

    capture = models.OneToOneField(Capture, on_delete=models.CASCADE, related_name="+")
    outlet = models.CharField(max_length=64, blank=True, db_index=True)
    url = models.TextField()
    captured_at = models.DateTimeField()
    reason = models.CharField(max_length=200)

    def __str__(self) -> str:
        return f"{self.url}: {self.reason}"
