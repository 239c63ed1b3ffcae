"""The catalogue. Every row here is derived from the WARC files and can be rebuilt from them
by ``kuaizhao reindex``."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from kuaizhao.lib.outlets import CATEGORIES
from kuaizhao.search.snippets import first_sentence

CATEGORY_SLUGS = {name: slug for slug, name in CATEGORIES}


class Outlet(models.Model):
    """A news outlet, as named by its config in ``outlets/``."""

    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    home = models.URLField(max_length=2000)

    def __str__(self) -> str:
        return self.name


class WarcFile(models.Model):
    """A closed WARC file whose records are in the catalogue."""

    name = models.CharField(max_length=255, unique=True)
    size = models.BigIntegerField()
    records = models.IntegerField()
    ingested_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class Capture(models.Model):
    """One response or revisit record: where it is in which WARC file."""

    url = models.TextField()
    surt = models.TextField(db_index=True)
    captured_at = models.DateTimeField()
    status = models.SmallIntegerField()
    mime = models.CharField(max_length=100)
    record_type = models.CharField(max_length=10)
    warc_file = models.CharField(max_length=255)
    offset = models.BigIntegerField()
    length = models.BigIntegerField()
    payload_digest = models.CharField(max_length=64)
    outlet = models.CharField(max_length=64, blank=True)
    processed = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["warc_file", "offset"], name="capture_position")
        ]
        indexes = [models.Index(fields=["processed", "mime"], name="capture_todo")]

    def __str__(self) -> str:
        return f"{self.url} @ {self.captured_at:%Y-%m-%d %H:%M:%S}"


class Article(models.Model):
    """A news article: the extracted content of its newest capture (all pages merged)."""

    url = models.TextField()
    surt = models.TextField(unique=True)
    outlet = models.ForeignKey(Outlet, null=True, on_delete=models.SET_NULL)
    category = models.CharField(max_length=16, db_index=True)
    title = models.TextField()
    published_at = models.DateTimeField(null=True, db_index=True)
    source = models.CharField(max_length=200, blank=True)
    author = models.CharField(max_length=200, blank=True)
    editor = models.CharField(max_length=200, blank=True)
    repost_from = models.CharField(max_length=200, blank=True)
    summary = models.TextField(blank=True)
    body_text = models.TextField()
    body_html = models.TextField()
    images = models.JSONField(default=list)
    provenance = models.JSONField(default=dict)
    key_phrases = models.JSONField(default=list)
    content_hash = models.CharField(max_length=64)
    extractor_version = models.CharField(max_length=16)
    capture = models.ForeignKey(Capture, on_delete=models.PROTECT, related_name="+")
    first_captured_at = models.DateTimeField()
    last_captured_at = models.DateTimeField()
    story = models.BigIntegerField(null=True, db_index=True)
    """The story (syndicated copies of one article) this one belongs to, named by the id of its
    original when it was grouped; see kuaizhao.archive.searching.Stories."""
    minhash = models.BinaryField(default=b"", editable=False)
    """MinHash signature of title and body (kuaizhao.search.stories.pack)."""

    class Meta:
        indexes = [
            models.Index(fields=["category", "-published_at"], name="article_category_latest"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def category_slug(self) -> str:
        return CATEGORY_SLUGS.get(self.category, "qita")

    @property
    def lead(self) -> str:
        """The first sentence of the summary or body, for lists."""
        return first_sentence(self.summary or self.body_text)


class StoryKey(models.Model):
    """An article's MinHash LSH band keys and its headline key: the index ingest looks up to
    find an article's near-duplicates and 转自 originals without reading the archive."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="+")
    key = models.BigIntegerField(db_index=True)

    def __str__(self) -> str:
        return f"{self.article_id}: {self.key}"


class ArticleVersion(models.Model):
    """One immutable state of an article: the content of the earliest capture that showed it.

    A capture whose extracted title and body differ from the version before it (in capture
    time) starts a new version; captures that show the same content add nothing here. The
    versions of an article are numbered 1, 2, … in capture-time order.
    """

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="versions")
    capture = models.ForeignKey(Capture, on_delete=models.PROTECT, related_name="+")
    captured_at = models.DateTimeField()
    title = models.TextField()
    published_at = models.DateTimeField(null=True)
    source = models.CharField(max_length=200, blank=True)
    author = models.CharField(max_length=200, blank=True)
    editor = models.CharField(max_length=200, blank=True)
    repost_from = models.CharField(max_length=200, blank=True)
    summary = models.TextField(blank=True)
    body_text = models.TextField()
    body_html = models.TextField()
    images = models.JSONField(default=list)
    provenance = models.JSONField(default=dict)
    content_hash = models.CharField(max_length=64)
    extractor_version = models.CharField(max_length=16)
    missing_page = models.TextField(blank=True, default="")
    """The SURT of the first later page (``…_2.html``) not yet captured when this version
    was extracted ("" when every page was there): its capture, when it comes, completes the
    version in place (pages of one article can land in different WARC files)."""

    CONTENT_FIELDS = (
        "title",
        "published_at",
        "source",
        "author",
        "editor",
        "repost_from",
        "summary",
        "body_text",
        "body_html",
        "images",
        "provenance",
        "content_hash",
        "extractor_version",
        "capture",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["article", "capture"], name="version_capture")
        ]
        indexes = [
            models.Index(fields=["article", "captured_at"], name="version_history"),
            models.Index(
                fields=["missing_page"], name="version_incomplete", condition=~Q(missing_page="")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} @ {self.captured_at:%Y-%m-%d %H:%M:%S}"

    def apply_to(self, article: Article) -> None:
        """Copy this version's content onto ``article`` (which is not saved here)."""
        for name in self.CONTENT_FIELDS:
            setattr(article, name, getattr(self, name))
