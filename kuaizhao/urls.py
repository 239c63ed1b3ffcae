"""The site's routes: each app's own urls.py, nothing else."""

from django.urls import include, path

urlpatterns = [
    path("", include("kuaizhao.takedown.urls")),
    path("", include("kuaizhao.archive.urls")),
    path("", include("kuaizhao.subscriptions.urls")),
    path("", include("kuaizhao.api.urls")),
    path("", include("kuaizhao.ops.urls")),
]
