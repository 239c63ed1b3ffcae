from django.apps import AppConfig


class ArchiveConfig(AppConfig):
    name = "kuaizhao.archive"
    label = "archive"
    verbose_name = "快照档案"
