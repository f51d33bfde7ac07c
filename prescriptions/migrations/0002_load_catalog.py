"""Loads the shipped medication catalog and interaction table (prescriptions/data/). Later
changes to the data are applied with `python manage.py load_medications`."""

from typing import Any

from django.db import migrations


def load(apps: Any, schema_editor: Any) -> None:
    from prescriptions.catalog import load_catalog

    load_catalog(apps.get_model("prescriptions", "Medication"), apps.get_model("prescriptions", "Interaction"))


class Migration(migrations.Migration):
    dependencies = [("prescriptions", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
