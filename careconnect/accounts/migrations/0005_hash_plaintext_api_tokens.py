"""Move DRF's plaintext `authtoken` tokens into accounts.ApiToken as SHA-256 digests, so the
clients holding them keep working, and delete the plaintext rows.

Self-contained on purpose (no project imports): the digest must stay what
`careconnect.accounts.tokens.hash_token` computes today. Reversing is a no-op: the plaintext
is gone, and the digests left in ApiToken keep authenticating.
"""

import hashlib

from django.db import migrations

BATCH = 1000


def hash_plaintext_tokens(apps, schema_editor):
    Token = apps.get_model("authtoken", "Token")
    ApiToken = apps.get_model("accounts", "ApiToken")
    db = schema_editor.connection.alias
    batch = []
    for token in Token.objects.using(db).order_by("pk").iterator(chunk_size=BATCH):
        batch.append(
            ApiToken(
                user_id=token.user_id,
                digest=hashlib.sha256(token.key.encode()).hexdigest(),
                created_at=token.created,
            )
        )
        if len(batch) == BATCH:
            ApiToken.objects.using(db).bulk_create(batch)
            batch = []
    ApiToken.objects.using(db).bulk_create(batch)
    Token.objects.using(db).all().delete()


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0004_apitoken"),
        # The oldest state with today's Token fields (key, user, created); nothing newer is read.
        ("authtoken", "0002_auto_20160226_1747"),
    ]

    operations = [
        migrations.RunPython(hash_plaintext_tokens, migrations.RunPython.noop),
    ]
