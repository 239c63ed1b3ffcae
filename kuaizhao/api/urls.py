from django.urls import URLPattern, URLResolver, path, re_path

from kuaizhao.api import cdx, memento

urlpatterns: list[URLPattern | URLResolver] = [
    path("cdx", cdx.cdx, name="cdx"),
    re_path(r"^web/(?P<rest>.*)$", memento.web, name="web"),
]
