"""Counter-notices become rows of their own: a request may take several."""

from django.db import migrations, models


def move_notices(apps, schema_editor):  # type: ignore[no-untyped-def]
    Request = apps.get_model("takedown", "Request")
    CounterNotice = apps.get_model("takedown", "CounterNotice")
    for filed in Request.objects.exclude(counter_notice=""):
        head, _, text = filed.counter_notice.partition("\n\n")
        name, _, email = head.rpartition(" <")
        notice = CounterNotice.objects.create(
            request=filed, name=name or head, email=email.rstrip(">"), text=text
        )
        CounterNotice.objects.filter(pk=notice.pk).update(filed_at=filed.counter_notice_at)


class Migration(migrations.Migration):
    dependencies = [("takedown", "0001_rules")]

    operations = [
        migrations.CreateModel(
            name="CounterNotice",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=200)),
                ("email", models.EmailField(max_length=254)),
                ("text", models.TextField()),
                ("filed_at", models.DateTimeField(auto_now_add=True)),
                (
                    "request",
                    models.ForeignKey(
                        on_delete=models.deletion.CASCADE,
                        related_name="counter_notices",
                        to="takedown.request",
                    ),
                ),
            ],
        ),
        migrations.RunPython(move_notices, migrations.RunPython.noop),
        migrations.RemoveField(model_name="request", name="counter_notice"),
        migrations.AlterField(
            model_name="request",
            name="counter_notice_at",
            field=models.DateTimeField(
                blank=True, help_text="最近一次异议的时间（异议见 CounterNotice）", null=True
            ),
        ),
    ]
