"""Sample papers with realistic Landak data, shared by the paper tests and bench/permit_pdf.py."""
from __future__ import annotations

from app.printing import Office, describe_permits
from reports.papers import (
    InspectionReportPaper,
    Letterhead,
    PermitPaper,
    ReceiptPaper,
    ReturnLetterPaper,
    Signatory,
    Signer,
)

LETTERHEAD = Letterhead(
    government="Pemerintah Kabupaten Landak",
    agency="Dinas Penanaman Modal, Pelayanan Terpadu Satu Pintu dan Tenaga Kerja",
    address="Jl. Pangeran Cinata No. 1, Ngabang, Kabupaten Landak, Kalimantan Barat 79357",
    contact="Telepon (0563) 2021000, Surel dpmptsptk@landakkab.go.id",
    logo_file="logo.png",
    city="Ngabang",
)
STATUS_URL = "https://loket.landakkab.go.id/status/TT-2026-000123"
VERIFICATION_URL = "https://loket.landakkab.go.id/verifikasi/503-0123-DPMPTSPTK-2026"

RECEIPT = ReceiptPaper(
    receipt_number="TT-2026-000123",
    received_at="28 November 2026 10.15 WIB",
    applicant_name="Yulius Antonius",
    applicant_nik="6108011203850004",
    company_name="PT Sinar Landak Transportasi",
    company_nib="9120301234567",
    permit_type_name="Izin Pool Kendaraan",
    documents=("Surat Permohonan", "Fotokopi KTP Penanggung Jawab", "Akta Pendirian Perusahaan", "Denah Lokasi Pool"),
    promised_on="12 Desember 2026",
    status_url=STATUS_URL,
    officer=Signer(title="Petugas Front Office", name="Maria Goreti", nip="198703152010012004"),
    fee_text="Tanpa Biaya",
)
RETURN_LETTER = ReturnLetterPaper(
    receipt_number="TT-2026-000123",
    letter_date="1 Desember 2026",
    applicant_name="Yulius Antonius",
    company_name="PT Sinar Landak Transportasi",
    permit_type_name="Izin Pool Kendaraan",
    missing=("Denah Lokasi Pool (tidak berskala)", "Bukti Sewa Lahan (masa sewa berakhir)"),
    reason="dokumen persyaratan belum lengkap.",
    officer=Signer(title="Petugas Front Office", name="Maria Goreti", nip="198703152010012004"),
    status_url=STATUS_URL,
)
INSPECTION = InspectionReportPaper(
    receipt_number="TT-2026-000123",
    permit_type_name="Izin Pool Kendaraan",
    company_name="PT Sinar Landak Transportasi",
    company_address="Jl. Raya Ngabang-Pontianak Km 3",
    site_address="Jl. Trans Kalimantan Km 5",
    kecamatan="Ngabang",
    desa="Hilir Kantor",
    applicant_name="Yulius Antonius",
    applicant_phone="0812-5678-9012",
    vehicle_capacity="25 unit",
    site_area="1.200 m²",
    inspector=Signer(title="Tim Teknis", name="Agustinus Dedi", nip="198204112006041003", position="Penguji Kendaraan"),
    requirement_name="Berita Acara Pemeriksaan Lapangan (ditandatangani Tim Teknis)",
)
PERMIT = PermitPaper(
    permit_number="503/0123/DPMPTSPTK-IPK/XII/2026",
    permit_type_name="Izin Pool Kendaraan",
    legal_bases=(
        "Undang-Undang Nomor 22 Tahun 2009 tentang Lalu Lintas dan Angkutan Jalan",
        "Undang-Undang Nomor 23 Tahun 2014 tentang Pemerintahan Daerah",
        "Peraturan Pemerintah Nomor 5 Tahun 2021 tentang Penyelenggaraan Perizinan Berusaha Berbasis Risiko",
        "Peraturan Bupati Landak Nomor 12 Tahun 2023 tentang Pendelegasian Kewenangan Perizinan",
    ),
    company_name="PT Sinar Landak Transportasi",
    legal_form="Perseroan Terbatas (PT)",
    nib="9120301234567",
    npwp="01.234.567.8-701.000",
    company_address="Jl. Raya Ngabang-Pontianak Km 3",
    responsible_person="Yulius Antonius",
    site_address="Jl. Trans Kalimantan Km 5",
    kecamatan="Ngabang",
    desa="Hilir Kantor",
    vehicle_capacity="25 unit",
    site_area="1.200 m²",
    issued_on="15 Desember 2026",
    validity="5 (lima) tahun",
    verification_url=VERIFICATION_URL,
    signatory=Signatory(
        position="Kepala Dinas Penanaman Modal, Pelayanan Terpadu Satu Pintu dan Tenaga Kerja Kabupaten Landak",
        name="Drs. Yohanes Sudarto, M.Si.",
        nip="196805121994031007",
        rank="Pembina Utama Muda (IV/c)",
    ),
    city="Ngabang",
)

# The office a test issues permits as: numbering freezes what the permit prints (app.printing).
OFFICE = Office(
    letterhead=LETTERHEAD, signatory=PERMIT.signatory, paper_size="F4", timezone="Asia/Jakarta",
    public_base_url="https://loket.landakkab.go.id",
)
DESCRIBE_PERMIT = describe_permits(OFFICE)
