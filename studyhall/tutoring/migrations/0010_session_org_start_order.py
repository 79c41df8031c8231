from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("tutoring", "0009_confirmations_ratings_recaps"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="session",
            index=models.Index(
                fields=["organization", "scheduled_start", "id"], name="session_org_start_order"
            ),
        ),
    ]
