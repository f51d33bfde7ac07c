"""The receipt of a paid bill as a PDF (built per request, never stored: it names the care)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from fpdf import FPDF

from booking.payments.models import Payment


def _latin1(text: str) -> str:
    """The built-in PDF fonts are Latin-1: anything else is shown as '?' rather than failing."""
    return text.encode("latin-1", "replace").decode("latin-1")


def receipt_pdf(payment: Payment, items: list[dict[str, Any]], *, zone: Any) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_title("CareConnect receipt")
    pdf.set_creator("CareConnect")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 18)
    pdf.cell(0, 12, _latin1(f"Receipt - {payment.center.name}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    center = payment.center
    address = ", ".join(p for p in (center.address, center.city) if p)
    for line in (address, center.phone):
        if line:
            pdf.cell(0, 6, _latin1(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    paid_at = timezone.localtime(payment.paid_at, zone) if payment.paid_at else None
    facts = [
        ("Receipt number", str(payment.id).split("-")[0].upper()),
        ("Billed to", payment.patient.full_name or payment.patient.email or "-"),
        ("Paid on", f"{paid_at:%d %b %Y %H:%M %Z}" if paid_at else "-"),
        ("Payment reference", payment.intent_id or "-"),
    ]
    for label, value in facts:
        pdf.set_font("Helvetica", "B", 10)
        pdf.cell(45, 6, _latin1(label))
        pdf.set_font("Helvetica", size=10)
        pdf.cell(0, 6, _latin1(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(140, 8, "Item", border="B")
    pdf.cell(0, 8, "Amount", border="B", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    for item in items:
        pdf.cell(140, 7, _latin1(str(item["description"])[:90]))
        pdf.cell(
            0, 7, f"{item['amount']} {payment.currency}", align="R", new_x="LMARGIN", new_y="NEXT"
        )
    totals = [("Total paid", payment.amount)]
    for refund in payment.refunds.all():
        totals.append((f"Refunded {timezone.localtime(refund.created_at, zone):%d %b %Y}",
                       -refund.amount))  # fmt: skip
    if payment.amount_refunded:
        totals.append(("Net paid", payment.amount - payment.amount_refunded))
    pdf.ln(2)
    for label, amount in totals:
        pdf.set_font("Helvetica", "B", 10)
        pdf.cell(140, 7, _latin1(label), border="T")
        pdf.cell(
            0,
            7,
            f"{amount:.2f} {payment.currency}",
            border="T",
            align="R",
            new_x="LMARGIN",
            new_y="NEXT",
        )
    return bytes(pdf.output())
