"""Getting a prescription to a pharmacy, through the channel configured for it:

- `email`: an email that names no patient and no medicine (email is not a safe place for PHI)
  with a link where the pharmacy downloads the PDF and the FHIR bundle (audited, 14 days);
- `fhir`: an HTTPS POST of a FHIR Bundle (MedicationRequests + the PDF as a Binary) to the
  pharmacy's endpoint.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from django.conf import settings
from django.core.mail import EmailMessage

from prescriptions.documents import PrescriptionDocument
from prescriptions.fhir import fhir_bundle_with_pdf
from prescriptions.models import PharmacySend
from prescriptions.pdf import render_pdf


class DeliveryError(Exception):
    """The pharmacy could not be reached or refused the delivery (retryable)."""


def send_email(send: PharmacySend, *, inbox_url: str) -> None:
    p = send.prescription
    body = (
        f"Hello {send.pharmacy.name},\n\n"
        "A CareConnect patient has sent you a prescription.\n\n"
        f"Prescriber: {p.doctor}, {p.doctor.center.name}\n"
        f"Verification code: {p.verification_code}\n\n"
        f"Download the prescription (PDF and FHIR) within 14 days:\n{inbox_url}\n\n"
        "The link is for your pharmacy only; every download is recorded.\n\n"
        "CareConnect"
    )
    message = EmailMessage(
        subject=f"New prescription from CareConnect ({p.verification_code})",
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[send.pharmacy.email],
    )
    try:
        message.send(fail_silently=False)
    except OSError as exc:
        raise DeliveryError(f"email: {type(exc).__name__}") from exc


def post_fhir(send: PharmacySend, document: PrescriptionDocument) -> None:
    bundle = fhir_bundle_with_pdf(document, render_pdf(document))
    request = urllib.request.Request(  # noqa: S310 - the endpoint is an admin-configured URL
        send.pharmacy.fhir_endpoint,
        data=json.dumps(bundle).encode(),
        method="POST",
        headers={
            "Content-Type": "application/fhir+json",
            "Accept": "application/fhir+json",
            "X-CareConnect-Send": str(send.id),
        },
    )
    try:
        with urllib.request.urlopen(  # noqa: S310
            request, timeout=settings.PHARMACY_TIMEOUT_SECONDS
        ) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"fhir endpoint answered {exc.code}") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise DeliveryError(f"fhir endpoint unreachable: {type(exc).__name__}") from exc
    if not 200 <= status < 300:
        raise DeliveryError(f"fhir endpoint answered {status}")
