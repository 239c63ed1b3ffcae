from django.urls import URLPattern, URLResolver, path

from kuaizhao.ops import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("ops/status", views.status, name="ops-status"),
    path("metrics", views.metrics, name="metrics"),
]
