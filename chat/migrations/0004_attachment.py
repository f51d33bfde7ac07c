import django.db.models.deletion
import uuid
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('chat', '0003_participant_notified_seq'),
    ]

    operations = [
        migrations.CreateModel(
            name='Attachment',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('name_sealed', models.BinaryField()),
                ('content_type', models.CharField(choices=[('image/jpeg', 'JPEG image'), ('image/png', 'PNG image'), ('image/webp', 'WebP image'), ('image/gif', 'GIF image'), ('application/pdf', 'PDF document')], max_length=40)),
                ('size', models.PositiveIntegerField(help_text='Plaintext bytes.')),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('conversation', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='attachments', to='chat.conversation')),
                ('message', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='attachments', to='chat.message')),
            ],
            options={
                'ordering': ['created_at'],
            },
        ),
    ]
