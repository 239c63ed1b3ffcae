from django.contrib.auth.views import LoginView
from django.urls import path

from kuaizhao.takedown import views

urlpatterns = [
    path("takedown", views.request_form, name="takedown"),
    path("takedown/confirm/<str:token>", views.confirm, name="takedown-confirm"),
    path("takedown/status/<str:secret>", views.status, name="takedown-status"),
    path("takedown/counter", views.find_counter, name="takedown-counter-find"),
    path("takedown/counter/<str:number>", views.counter, name="takedown-counter"),
    path("takedown/transparency", views.transparency, name="takedown-transparency"),
    path(
        "takedown/review/login",
        LoginView.as_view(template_name="takedown/login.html"),
        name="takedown-login",
    ),
    path("takedown/review/", views.queue, name="takedown-queue"),
    path("takedown/review/<int:pk>", views.review, name="takedown-review"),
]
