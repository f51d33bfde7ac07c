from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('chat', '0002_message_change_cursor'),
    ]

    operations = [
        migrations.AddField(
            model_name='participant',
            name='notified_seq',
            field=models.PositiveBigIntegerField(default=0, help_text='The last seq an offline email covered (one email per unread run).'),
        ),
    ]
