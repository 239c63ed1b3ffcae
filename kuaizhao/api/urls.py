from django.urls import URLPattern, URLResolver, path, re_path

from kuaizhao.api import cdx, memento
from kuaizhao.api.rest import api

urlpatterns: list[URLPattern | URLResolver] = [
    path("cdx", cdx.cdx, name="cdx"),
    re_path(r"^web/(?P<rest>.*)$", memento.web, name="web"),
    path("api/", api.urls),
]
