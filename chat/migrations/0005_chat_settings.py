import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0002_specialties'),
        ('chat', '0004_attachment'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='CenterChatSettings',
            fields=[
                ('center', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='chat_settings', serialize=False, to='accounts.medicalcenter')),
                ('expected_reply', models.CharField(blank=True, help_text='Shown in conversations: "Replies within 1 day".', max_length=120)),
                ('updated_at', models.DateTimeField(auto_now=True)),
            ],
        ),
        migrations.CreateModel(
            name='ChatSettings',
            fields=[
                ('user', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='chat_settings', serialize=False, to=settings.AUTH_USER_MODEL)),
                ('show_presence', models.BooleanField(default=True, help_text='Others see when this person is online and when last seen.')),
                ('updated_at', models.DateTimeField(auto_now=True)),
            ],
        ),
    ]
