"""The printable prescription (A4), built per request from a PrescriptionDocument and never
stored: like the receipt, it names the care.

Laid out for the person who acts on it: a pharmacist reads what to dispense, sees at once when
it must not be dispensed (a status banner), and checks it is genuine with the verification
code, which is printed large and repeated on every page."""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path

from fpdf import FPDF
from fpdf.fonts import FontFace, TTFFont

from prescriptions import vocab
from prescriptions.documents import DocItem, PrescriptionDocument

# Debian's fonts-dejavu-core, where it is installed. DejaVu covers Latin, Greek, Cyrillic and
# more, so "Łukasz" prints as written; without it we fall back to the built-in Latin-1 fonts,
# as the receipt does.
FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"),)

# fontTools, which fpdf2 subsets embedded fonts with, logs the glyph names of every subset at
# INFO: a line per PDF listing the letters of a patient's name and medicines. Quieten it unless
# logging was configured for it on purpose.
_SUBSET_LOG = logging.getLogger("fontTools.subset")
if _SUBSET_LOG.level == logging.NOTSET:
    _SUBSET_LOG.setLevel(logging.WARNING)
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_UNICODE = "DejaVu"
_CORE = "Helvetica"
_COLUMNS: tuple[tuple[str, float], ...] = (
    ("Medicine", 42),
    ("Dose", 22),
    ("Route", 24),
    ("How often", 25),
    ("Duration", 19),
    ("Quantity", 19),
    ("Refills", 14),
    ("Substitution allowed", 25),
)  # mm, 190 in all: A4 less fpdf2's default 1 cm margins; no heading word breaks at 9 pt


def render_pdf(doc: PrescriptionDocument) -> bytes:
    pdf = _PrescriptionPDF(doc.verification_code)
    # Metadata is read by indexers and file browsers without opening the page: keep the
    # patient, the prescriber and the medicines out of it.
    pdf.set_title("CareConnect prescription")
    pdf.set_creator("CareConnect")
    pdf.set_lang("en")
    pdf.add_page()
    t = pdf.clean
    prescriber = doc.prescriber

    pdf.set_font(pdf.face, "B", 10)
    pdf.cell(0, 5, "CareConnect", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(pdf.face, "B", 14)
    pdf.multi_cell(0, 7, t(prescriber.center_name or "-"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(pdf.face, size=10)
    for line in (prescriber.center_address, prescriber.center_phone):
        if line.strip():
            pdf.multi_cell(0, 5, t(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
    pdf.ln(3)
    pdf.set_font(pdf.face, "B", 18)
    pdf.cell(0, 10, "Prescription", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)

    if doc.status != "active":
        _banner(pdf, doc.status)

    facts = [
        ("Patient", doc.patient.name or "-"),
        ("Date of birth", _day(doc.patient.birth_date) if doc.patient.birth_date else "-"),
        ("Prescriber", _doctor(prescriber.name)),
        ("License number", prescriber.license_number or "-"),
        ("Issued", _day(doc.issued_at)),
        ("Valid until", _day(doc.expires_at)),
        ("Prescription number", _short(doc.id)),
    ]
    if doc.refill_of:
        facts.append(("Refill of", _short(doc.refill_of)))
    for label, value in facts:
        pdf.set_font(pdf.face, "B", 10)
        pdf.cell(45, 6, label)
        pdf.set_font(pdf.face, size=10)
        pdf.multi_cell(0, 6, t(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)

    _items(pdf, doc.items)
    pdf.ln(6)

    pdf.set_font(pdf.face, "B", 16)
    pdf.set_line_width(0.5)
    pdf.cell(
        0,
        14,
        t(f"Verification code: {doc.verification_code}"),
        border=1,
        align="C",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_line_width(0.2)
    pdf.set_font(pdf.face, size=10)
    pdf.ln(1)
    pdf.multi_cell(
        0,
        5,
        t(f"Pharmacists: check this prescription at {doc.verify_url}"),
        link=doc.verify_url,
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(6)
    signed = f"{_day(doc.issued_at)} {doc.issued_at.astimezone(UTC):%H:%M} UTC"
    pdf.set_font(pdf.face, "B", 10)
    pdf.multi_cell(
        0,
        6,
        t(f"Electronically signed by {_doctor(prescriber.name)} on {signed}"),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    return bytes(pdf.output())


class _PrescriptionPDF(FPDF):
    """An A4 page whose footer repeats the verification code, so that a page that comes loose
    from a longer prescription can still be checked and matched to the rest."""

    def __init__(self, verification_code: str) -> None:
        super().__init__(format="A4")
        self.verification_code = verification_code
        self.face = _CORE
        self.clean: Callable[[str], str] = _latin1
        fonts = _unicode_fonts(FONT_DIRS)
        if fonts is not None:
            self.add_font(_UNICODE, "", fonts[0])
            self.add_font(_UNICODE, "B", fonts[1])
            self.face = _UNICODE
            self.clean = _covered_by(*self.fonts.values())
        self.alias_nb_pages()

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(self.face, size=8)
        self.cell(
            0,
            5,
            self.clean(
                f"CareConnect prescription - verification code {self.verification_code}"
                f" - page {self.page_no()} of {{nb}}"
            ),
            align="C",
        )


def _banner(pdf: _PrescriptionPDF, status: str) -> None:
    """A heavy, red-bordered box: it must survive a black-and-white printer and a quick look."""
    pdf.set_draw_color(180, 0, 0)
    pdf.set_text_color(180, 0, 0)
    pdf.set_line_width(1)
    pdf.set_font(pdf.face, "B", 16)
    pdf.cell(
        0,
        14,
        pdf.clean(f"{status.upper()} - not valid for dispensing"),
        border=1,
        align="C",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_draw_color(0, 0, 0)
    pdf.set_text_color(0, 0, 0)
    pdf.set_line_width(0.2)
    pdf.ln(4)


def _items(pdf: _PrescriptionPDF, items: tuple[DocItem, ...]) -> None:
    t = pdf.clean
    pdf.set_font(pdf.face, size=9)
    with pdf.table(
        col_widths=tuple(width for _, width in _COLUMNS),
        text_align="LEFT",
        line_height=4.5,
        padding=1.2,
        headings_style=FontFace(emphasis="BOLD", fill_color=(230, 230, 230)),
    ) as table:
        heading = table.row()
        for label, _ in _COLUMNS:
            heading.cell(label)
        for n, item in enumerate(items, start=1):
            frequency = vocab.FREQUENCIES.get(item.frequency)
            row = table.row()
            for text in (
                f"{n}. {item.title}",
                item.dose or "-",
                vocab.ROUTES.get(item.route, item.route) or "-",
                frequency.label if frequency else item.frequency,
                f"{item.duration_days} day{'s' if item.duration_days != 1 else ''}",
                str(item.quantity),
                str(item.refills),
                "yes" if item.substitution_allowed else "no",
            ):
                row.cell(t(text))
            if item.instructions.strip():
                table.row().cell(t(f"Instructions: {item.instructions.strip()}"), colspan=8)


@cache
def _unicode_fonts(folders: tuple[Path, ...]) -> tuple[Path, Path] | None:
    for folder in folders:
        regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
        if regular.is_file() and bold.is_file():
            return regular, bold
    return None


def _covered_by(*fonts: object) -> Callable[[str], str]:
    """Characters the fonts lack (CJK in DejaVu, say) become '?', as the receipt does beyond
    Latin-1. Left to fpdf2 they would print as empty boxes and, worse, be logged as "missing
    glyphs", which would put fragments of patients' names into our logs."""
    covered: set[int] | None = None
    for font in fonts:
        if isinstance(font, TTFFont):
            codes = set(font.cmap)
            covered = codes if covered is None else covered & codes
    allowed = frozenset(covered or ())

    def text(value: str) -> str:
        value = unicodedata.normalize("NFC", value)
        return "".join(c if ord(c) in allowed or c == "\n" else "?" for c in value)

    return text


def _latin1(text: str) -> str:
    """The built-in PDF fonts are Latin-1: anything else is shown as '?' rather than failing."""
    return unicodedata.normalize("NFC", text).encode("latin-1", "replace").decode("latin-1")


def _day(moment: date) -> str:
    """'22 Nov 2026', the same in every locale and unambiguous to any reader (unlike 11/22);
    times are shown in UTC."""
    if isinstance(moment, datetime):
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError("prescription times must be timezone-aware")
        moment = moment.astimezone(UTC)
    return f"{moment.day} {_MONTHS[moment.month - 1]} {moment.year}"


def _doctor(name: str) -> str:
    """Prescriber names usually arrive as 'Dr Rui Costa'; say 'Dr' once either way."""
    if not name.strip():
        return "-"
    return name if name.lower().startswith(("dr ", "dr.")) else f"Dr {name}"


def _short(prescription_id: str) -> str:
    """The first block of the id, as on the receipt: enough to tell prescriptions apart by
    eye; the verification code is what proves which one it is."""
    return prescription_id.split("-")[0].upper()
