from django.contrib import admin

from kuaizhao.archive.models import Article, Capture, Outlet


@admin.register(Outlet)
class OutletAdmin(admin.ModelAdmin[Outlet]):
    list_display = ("slug", "name", "home")


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin[Article]):
    list_display = ("title", "category", "source", "published_at", "last_captured_at")
    list_filter = ("category",)
    search_fields = ("url",)


@admin.register(Capture)
class CaptureAdmin(admin.ModelAdmin[Capture]):
    list_display = ("url", "captured_at", "status", "mime", "record_type")
    search_fields = ("url",)
