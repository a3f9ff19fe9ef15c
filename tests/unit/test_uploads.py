"""app.uploads: content sniffing, name checks, bounded reading, content-addressed storage."""
from __future__ import annotations

import hashlib
import io
import itertools
import os
import stat
import struct
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from reportlab.pdfgen import canvas

from app.uploads import (
    EXTENSIONS,
    StoredFile,
    UploadRefused,
    check_filename,
    sniff_media_type,
    storage_path,
    store_upload,
)
from tests.private_modes import PERMISSIVE_UMASKS, modes, process_umask

KB = 1024
MB = 1024 * 1024

MSG_TYPE = "Jenis berkas tidak diizinkan: hanya PDF, JPEG atau PNG (isi berkas diperiksa, bukan ekstensinya)."
MSG_PATH = "Nama berkas tidak boleh memuat garis miring atau '..'."
MSG_CONTROL = (
    "Nama berkas memuat karakter kendali atau pembalik arah teks (right-to-left) yang tidak diizinkan."
)


def _pdf() -> bytes:
    out = io.BytesIO()
    page = canvas.Canvas(out)
    page.drawString(72, 720, "Surat Permohonan Izin")
    page.save()
    return out.getvalue()


def _image(kind: str, size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, kind)
    return out.getvalue()


def _flip_byte(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0xFF]) + data[index + 1 :]


PDF = _pdf()
PNG = _image("PNG")
JPEG = _image("JPEG")


class GeneratorStream(io.RawIOBase):
    """A request body produced lazily, counting how much the reader actually pulled."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._pending = b""
        self.bytes_pulled = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if not self._pending:
            self._pending = next(self._chunks, b"")
            self.bytes_pulled += len(self._pending)
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n


def _tree(storage: Path) -> list[str]:
    """Everything under storage (files and directories), relative to it."""
    found = []
    for root, dirs, files in os.walk(storage):
        found += [os.path.relpath(os.path.join(root, name), storage) for name in dirs + files]
    return sorted(found)


@pytest.fixture()
def storage(tmp_path: Path) -> Path:
    return tmp_path / "uploads"  # not created: store_upload makes it when needed


def _refused(storage: Path, data: bytes, filename: str | None = "berkas.pdf", max_bytes: int = MB) -> str:
    with pytest.raises(UploadRefused) as refused:
        store_upload(io.BytesIO(data), filename, storage, max_bytes)
    assert _tree(storage) == []  # not even a temp file or an empty shard directory
    return str(refused.value)


# --- accepted files ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "filename", "media_type", "extension"),
    [
        (PDF, "Surat Permohonan.pdf", "application/pdf", ".pdf"),
        (PNG, "denah lokasi.png", "image/png", ".png"),
        (JPEG, "KTP Budi.jpeg", "image/jpeg", ".jpg"),
    ],
)
def test_valid_file_is_stored_under_its_hash(storage, data, filename, media_type, extension):
    stored = store_upload(io.BytesIO(data), filename, storage, MB)

    digest = hashlib.sha256(data).hexdigest()
    assert stored == StoredFile(
        storage_key=digest,
        sha256=digest,
        size_bytes=len(data),
        media_type=media_type,
        original_filename=filename,
    )
    assert EXTENSIONS[stored.media_type] == extension
    path = storage_path(storage, stored.storage_key)
    assert path == storage / digest[:2] / digest
    assert path.read_bytes() == data
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert _tree(storage) == [digest[:2], f"{digest[:2]}/{digest}"]  # no temp file left


@pytest.mark.parametrize("umask", PERMISSIVE_UMASKS)
def test_documents_are_private_whatever_the_umask(storage, umask):
    with process_umask(umask):
        stored = store_upload(io.BytesIO(PDF), "izin.pdf", storage, MB)
    path = storage_path(storage, stored.storage_key)
    assert modes(storage, path.parent, path) == {str(storage): "0o700", str(path.parent): "0o700", str(path): "0o600"}


def test_a_wider_document_folder_of_an_older_version_is_narrowed(storage):
    storage.mkdir()
    storage.chmod(0o755)
    with process_umask(0o022):
        stored = store_upload(io.BytesIO(PNG), "denah.png", storage, MB)
    assert modes(storage, storage_path(storage, stored.storage_key))[str(storage)] == "0o700"


def test_type_comes_from_content_not_extension(storage):
    assert store_upload(io.BytesIO(PNG), "scan.pdf", storage, MB).media_type == "image/png"


def test_same_bytes_are_stored_once(storage):
    first = store_upload(io.BytesIO(PDF), "izin.pdf", storage, MB)
    second = store_upload(io.BytesIO(PDF), "izin (salinan).pdf", storage, MB)

    assert second.storage_key == first.storage_key
    assert second.original_filename == "izin (salinan).pdf"
    key = first.storage_key
    assert _tree(storage) == [key[:2], f"{key[:2]}/{key}"]


def test_file_exactly_at_the_limit_is_accepted(storage):
    assert store_upload(io.BytesIO(PDF), "izin.pdf", storage, len(PDF)).size_bytes == len(PDF)


def test_pdf_with_trailing_newlines_after_eof_is_accepted(storage):
    assert store_upload(io.BytesIO(PDF + b"\r\n" * 100), "izin.pdf", storage, MB).media_type == "application/pdf"


# --- refused content --------------------------------------------------------------------


def _zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("izin.pdf", PDF)
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "filename"),
    [
        (b"<!DOCTYPE html><html><script>alert(1)</script></html>", "izin.pdf"),
        (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "denah.svg"),
        (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>', "denah.png"),
        (_image("GIF"), "foto.jpg"),
        (_zip(), "izin.pdf"),
        (b"MZ\x90\x00" + b"\x00" * 60, "invoice.pdf"),
        (b" %PDF-1.4\n%%EOF", "izin.pdf"),  # the header must be at the very start
    ],
    ids=["html-as-pdf", "svg", "svg-as-png", "gif", "zip", "exe", "pdf-header-not-first"],
)
def test_disallowed_content_is_refused(storage, data, filename):
    assert _refused(storage, data, filename) == MSG_TYPE


def test_pdf_without_eof_marker_is_refused(storage):
    truncated = PDF[: PDF.rindex(b"%%EOF")]
    assert "%%EOF" in _refused(storage, truncated, "izin.pdf")


def test_pdf_with_eof_only_far_from_the_end_is_refused(storage):
    assert "%%EOF" in _refused(storage, PDF + b"\n" + b"A" * 4096, "izin.pdf")


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"garbage" * 50, "PNG"),
        (PNG[:-20], "PNG"),  # IEND chunk cut off
        (_flip_byte(PNG, PNG.index(b"IDAT") + 8), "PNG"),  # IDAT's CRC no longer matches
        (b"\xff\xd8\xff" + b"garbage" * 50, "JPEG"),
        (JPEG[: JPEG.index(b"\xff\xda") + 20], "JPEG"),  # headers intact, scan data cut off
    ],
    ids=["png-signature-garbage", "png-truncated", "png-bad-crc", "jpeg-signature-garbage", "jpeg-truncated"],
)
def test_broken_image_is_refused(storage, data, kind):
    assert _refused(storage, data, "foto.png") == (
        f"Berkas {kind} rusak atau tidak lengkap; unggah ulang dari berkas aslinya."
    )


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def test_image_with_absurd_dimensions_is_refused_without_decoding(storage):
    # A 45-byte PNG claiming 60000 x 60000 pixels: a decompression bomb.
    ihdr = struct.pack(">IIBBBBB", 60_000, 60_000, 1, 0, 0, 0, 0)
    bomb = b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IEND", b"")
    assert _refused(storage, bomb, "denah.png") == (
        "Dimensi gambar terlalu besar; perkecil resolusi pindaian lalu unggah ulang."
    )


def test_empty_file_is_refused(storage):
    assert _refused(storage, b"", "izin.pdf") == "Berkas kosong (0 byte)."


# --- size limit -------------------------------------------------------------------------


def test_file_over_the_limit_is_refused(storage):
    assert _refused(storage, PDF, "izin.pdf", max_bytes=len(PDF) - 1).startswith("Ukuran berkas melebihi batas")
    assert _refused(storage, b"%PDF-" + b"A" * KB, "izin.pdf", max_bytes=KB) == "Ukuran berkas melebihi batas 1 KB."


@pytest.mark.parametrize(
    ("max_bytes", "limit"),
    [(KB, "1 KB"), (10 * MB, "10 MB"), (MB + MB // 2, "1,5 MB")],
)
def test_endless_stream_stops_just_past_the_limit(storage, max_bytes, limit):
    chunk = b"%PDF-" + b"\x00" * (64 * KB - 5)
    stream = GeneratorStream(itertools.repeat(chunk))  # would never end on its own

    with pytest.raises(UploadRefused) as refused:
        store_upload(stream, "izin.pdf", storage, max_bytes)

    assert str(refused.value) == f"Ukuran berkas melebihi batas {limit}."
    assert stream.bytes_pulled <= max_bytes + len(chunk)
    assert _tree(storage) == []


def test_stream_error_midway_leaves_nothing_behind(storage):
    def disconnecting_client() -> Iterator[bytes]:
        yield PDF[:100]
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        store_upload(GeneratorStream(disconnecting_client()), "izin.pdf", storage, MB)
    assert _tree(storage) == []


# --- file names -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "message"),
    [
        ("../../etc/passwd.pdf", MSG_PATH),
        ("..\\..\\windows\\win.ini.pdf", MSG_PATH),
        ("/etc/passwd.pdf", MSG_PATH),
        ("surat/izin.pdf", MSG_PATH),
        ("..", MSG_PATH),
        ("laporan\u202efdp.exe", MSG_CONTROL),  # displays as "laporanexe.pdf"
        *[(f"izin{ch}.pdf", MSG_CONTROL) for ch in "\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069\u200e\u200f\u061c"],
        ("izin.pdf\x00.exe", MSG_CONTROL),
        ("izin\r\nX-Injected: 1.pdf", MSG_CONTROL),
        ("izin\t.pdf", MSG_CONTROL),
        ("izin\x7f.pdf", MSG_CONTROL),
        ("izin\x85.pdf", MSG_CONTROL),
        ("izin\u2028.pdf", MSG_CONTROL),
        ("izin\udcff.pdf", MSG_CONTROL),  # lone surrogate from a mis-decoded header
        (None, "Nama berkas kosong; pilih berkas yang akan diunggah."),
        ("", "Nama berkas kosong; pilih berkas yang akan diunggah."),
        ("   ", "Nama berkas kosong; pilih berkas yang akan diunggah."),
        ("a" * 252 + ".pdf", "Nama berkas terlalu panjang (maksimal 255 karakter); persingkat namanya lalu unggah ulang."),
    ],
)
def test_hostile_name_is_refused_before_reading(storage, filename, message):
    stream = io.BytesIO(PDF)
    with pytest.raises(UploadRefused) as refused:
        store_upload(stream, filename, storage, MB)
    assert str(refused.value) == message
    assert stream.tell() == 0
    assert _tree(storage) == []


@pytest.mark.parametrize(
    "filename",
    [
        "KTP Budi (scan) 2024.jpg",
        "surat..final.pdf",  # ".." inside a name is not a path part
        "..izin.pdf",
        "Akta Pendirian PT Maju Jaya – Ngabang.pdf",
        "ملف الشركة.pdf",  # right-to-left letters are fine; only the control characters are not
        "a" * 251 + ".pdf",
    ],
)
def test_ordinary_names_are_kept(filename):
    assert check_filename(filename) == filename


def test_name_is_normalised_to_nfc():
    decomposed = "Cafe\u0301 Sintang.pdf"
    assert check_filename(decomposed) == "Caf\u00e9 Sintang.pdf"
    # 255 composed characters are allowed even when the decomposed form is longer
    assert check_filename("e\u0301" * 251 + ".pdf") == "\u00e9" * 251 + ".pdf"


# --- storage_path and sniff_media_type --------------------------------------------------


@pytest.mark.parametrize(
    "key",
    ["../x", "", "ab", "../" + "a" * 61, "a" * 63, "a" * 65, "A" * 64, "g" * 64, "a" * 64 + "\n", "/" + "a" * 63],
)
def test_storage_path_refuses_anything_but_a_sha256_hex(tmp_path, key):
    with pytest.raises(ValueError):
        storage_path(tmp_path, key)


def test_storage_path_stays_inside_the_storage_dir(tmp_path):
    key = hashlib.sha256(b"x").hexdigest()
    path = storage_path(tmp_path, key)
    assert path == tmp_path / key[:2] / key
    assert path.resolve().is_relative_to(tmp_path.resolve())


@pytest.mark.parametrize(
    ("data", "media_type"),
    [(PDF, "application/pdf"), (PNG, "image/png"), (JPEG, "image/jpeg")],
)
def test_sniff_media_type(tmp_path, data, media_type):
    path = tmp_path / "upload"
    path.write_bytes(data)
    assert sniff_media_type(data[:16], path) == media_type
