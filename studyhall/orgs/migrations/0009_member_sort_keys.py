from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def copy_names(apps, schema_editor):
    Member = apps.get_model("orgs", "Member")
    User = apps.get_model("accounts", "User")
    users = User.objects.filter(pk=OuterRef("user_id"))
    Member.objects.update(
        sort_name=Subquery(users.values("name")[:1]),
        sort_email=Subquery(users.values("email")[:1]),
    )


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0001_initial"),
        ("orgs", "0008_trust_policy"),
    ]

    operations = [
        migrations.AddField(
            model_name="member",
            name="sort_email",
            field=models.CharField(blank=True, editable=False, max_length=254),
        ),
        migrations.AddField(
            model_name="member",
            name="sort_name",
            field=models.CharField(blank=True, editable=False, max_length=150),
        ),
        migrations.RunPython(copy_names, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="member",
            index=models.Index(
                fields=["organization", "sort_name", "sort_email", "id"],
                name="member_org_name_order",
            ),
        ),
    ]
