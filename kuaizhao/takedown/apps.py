from django.apps import AppConfig


class TakedownConfig(AppConfig):
    name = "kuaizhao.takedown"
    label = "takedown"
    verbose_name = "侵权删除"
