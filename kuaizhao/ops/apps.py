from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "kuaizhao.ops"
    label = "ops"
    verbose_name = "采集运维"
