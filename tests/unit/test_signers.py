"""The signature block of the papers an officer signs, and the NIP check (no Flask app)."""
from __future__ import annotations

from dataclasses import replace

import pytest

from app.security.officers import normalize_nip
from app.validators import InvalidValue
from reports.papers import Signer, render_inspection_report, render_receipt, render_return_letter
from tests.paper_samples import INSPECTION, LETTERHEAD, RECEIPT, RETURN_LETTER
from tests.unit.test_papers import text_of


@pytest.mark.parametrize("written", ["198703152010012004", "19870315 201001 2 004", "19870315.201001.2.004"])
def test_a_nip_is_kept_as_its_18_digits(written: str) -> None:
    assert normalize_nip(written) == "198703152010012004"


@pytest.mark.parametrize("written", ["", "12345", "1987031520100120041", "19870315201001200A", "١٩٨٧٠٣١٥٢٠١٠٠١٢٠٠٤"])
def test_a_nip_that_is_not_18_digits_is_refused(written: str) -> None:
    with pytest.raises(InvalidValue) as refused:
        normalize_nip(written)
    assert "18" in str(refused.value.message)


def test_the_bap_prints_the_inspector_with_nip_and_jabatan_and_where_it_is_filed() -> None:
    text = text_of(render_inspection_report(INSPECTION, LETTERHEAD))
    inspector = INSPECTION.inspector
    for expected in ("BERITA ACARA PEMERIKSAAN LAPANGAN", f"{inspector.title},", inspector.name, inspector.nip,
                     f"NIP. {inspector.nip}", inspector.position, INSPECTION.requirement_name, "Pemohon/Kuasa"):
        assert expected in text


def test_an_unknown_signer_leaves_name_and_nip_to_be_written_in() -> None:
    for render, paper in ((render_receipt, RECEIPT), (render_return_letter, RETURN_LETTER)):
        text = text_of(render(replace(paper, officer=Signer(title="Petugas Front Office")), LETTERHEAD))
        assert "Petugas Front Office," in text and "(....." in text and "NIP. ....." in text
        assert "Maria Goreti" not in text
    text = text_of(render_inspection_report(replace(INSPECTION, inspector=Signer(title="Tim Teknis")), LETTERHEAD))
    assert "Tim Teknis," in text and INSPECTION.inspector.name not in text


def test_a_signer_without_nip_prints_no_nip_line() -> None:
    text = text_of(render_return_letter(replace(RETURN_LETTER, officer=Signer("Petugas Back Office", "Yosef Ateng")),
                                        LETTERHEAD))
    assert "Petugas Back Office," in text and "Yosef Ateng" in text and "NIP" not in text


def test_a_signers_name_is_printed_as_written_not_as_markup() -> None:
    officer = Signer(title="Petugas <b>Front</b> Office", name="<i>Maria</i> & Goreti", nip="198703152010012004")
    text = text_of(render_receipt(replace(RECEIPT, officer=officer), LETTERHEAD))
    assert "<i>Maria</i> & Goreti" in text and "Petugas <b>Front</b> Office" in text
