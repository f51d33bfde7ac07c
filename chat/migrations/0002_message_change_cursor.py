# The `change` counter: every new or changed message takes the conversation's next number, so
# `sync` can replay edits, deletions and card updates a client missed.

from django.db import migrations, models
from django.db.models import F


def backfill(apps, schema_editor):
    Conversation = apps.get_model("chat", "Conversation")
    Message = apps.get_model("chat", "Message")
    Message.objects.update(change=F("seq"))
    Conversation.objects.update(last_change=F("last_seq"))


class Migration(migrations.Migration):

    dependencies = [
        ('chat', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='conversation',
            name='last_change',
            field=models.PositiveBigIntegerField(default=0, help_text='Counts every new or changed message (the `change` sync cursor).'),
        ),
        migrations.AddField(
            model_name='message',
            name='change',
            field=models.PositiveBigIntegerField(default=0, help_text="The conversation's `last_change` when this row was last written."),
        ),
        migrations.AddIndex(
            model_name='message',
            index=models.Index(fields=['conversation', 'change'], name='message_change'),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
