"""PostgreSQL only: no two live appointments of one doctor may overlap in time.

The partial unique index of 0001 (one live appointment per slot) is the equivalent on
SQLite; on PostgreSQL this exclusion constraint is stronger: it also holds across slots of
different lengths (a rule change, an extra-hours slot) because it compares time ranges.
"""

from django.db import migrations

CONSTRAINT = "appointment_no_overlap_per_doctor"


def add_exclusion(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    schema_editor.execute(
        f"""
        ALTER TABLE booking_appointment ADD CONSTRAINT {CONSTRAINT}
        EXCLUDE USING gist (
            doctor_id WITH =,
            tstzrange("start", "end", '[)') WITH &&
        ) WHERE (status <> 'cancelled')
        """
    )


def drop_exclusion(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"ALTER TABLE booking_appointment DROP CONSTRAINT IF EXISTS {CONSTRAINT}")


class Migration(migrations.Migration):
    dependencies = [("booking", "0001_initial")]

    operations = [migrations.RunPython(add_exclusion, drop_exclusion, elidable=False)]
