from django.db import migrations

SPECIALTIES = [
    ("allergy-immunology", "Allergy & Immunology"), ("cardiology", "Cardiology"),
    ("dermatology", "Dermatology"), ("endocrinology", "Endocrinology"),
    ("family-medicine", "Family Medicine"), ("gastroenterology", "Gastroenterology"),
    ("general-practice", "General Practice"), ("gynecology", "Obstetrics & Gynecology"),
    ("internal-medicine", "Internal Medicine"), ("neurology", "Neurology"),
    ("ophthalmology", "Ophthalmology"), ("orthopedics", "Orthopedics"),
    ("otolaryngology", "Ear, Nose & Throat"), ("pediatrics", "Pediatrics"),
    ("psychiatry", "Psychiatry"), ("psychology", "Psychology"),
    ("pulmonology", "Pulmonology"), ("urology", "Urology"),
]


def forward(apps, schema_editor):
    Specialty = apps.get_model("accounts", "Specialty")
    for slug, name in SPECIALTIES:
        Specialty.objects.update_or_create(slug=slug, defaults={"name": name})


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
