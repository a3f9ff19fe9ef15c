"""Checking and storing uploaded documents (PDF, JPEG, PNG).

Pure module: no Flask, no database, so a plain test can drive it. The web layer passes the
request stream, the browser-supplied name, the storage directory and the size limit, and
records the returned StoredFile.

Files are content-addressed: stored as <storage_dir>/<sha256[:2]>/<sha256>, so no name from
the user ever reaches the filesystem and the same bytes are stored once. The original
name is only a label, checked here so it is safe to show and to put in a download header.
Files are 0600 and folders 0700 whatever the umask; a `.upload-*.part` that a killed upload
left behind is swept by the nightly purge (app.jobs.runner.purge).
"""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from PIL import Image

from app.private_files import FILE_MODE, private_dir

EXTENSIONS = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}

MAX_FILENAME_CHARS = 255
CHUNK_BYTES = 64 * 1024
HEAD_BYTES = 16  # enough for the longest signature we check (PNG, 8 bytes)
# Acrobat accepts %%EOF anywhere in the last 1024 bytes (trailing newlines, padding).
PDF_EOF_WINDOW = 1024

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_SIGNATURE = b"\xff\xd8\xff"
PDF_SIGNATURE = b"%PDF-"

# Explicit directional formatting characters: they let "laporan\u202efdp.exe" display
# as "laporanexe.pdf", so a name can lie about its type to the staff reading it.
_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Cc: NUL, CR/LF (header injection), other C0/C1 controls; Zl/Zp: line breaks in disguise;
# Cs: lone surrogates, which cannot be encoded when the label is saved or sent.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})
_STORAGE_KEY = re.compile(r"[0-9a-f]{64}")

MSG_EMPTY_NAME = "Nama berkas kosong; pilih berkas yang akan diunggah."
MSG_LONG_NAME = (
    f"Nama berkas terlalu panjang (maksimal {MAX_FILENAME_CHARS} karakter); "
    "persingkat namanya lalu unggah ulang."
)
MSG_PATH_NAME = "Nama berkas tidak boleh memuat garis miring atau '..'."
MSG_CONTROL_NAME = (
    "Nama berkas memuat karakter kendali atau pembalik arah teks (right-to-left) "
    "yang tidak diizinkan."
)
MSG_EMPTY_FILE = "Berkas kosong (0 byte)."
MSG_TOO_LARGE = "Ukuran berkas melebihi batas {limit}."
MSG_TYPE = (
    "Jenis berkas tidak diizinkan: hanya PDF, JPEG atau PNG "
    "(isi berkas diperiksa, bukan ekstensinya)."
)
MSG_PDF_NO_EOF = (
    "Berkas PDF tidak lengkap atau rusak (penanda akhir %%EOF tidak ditemukan); "
    "unggah ulang dari berkas aslinya."
)
MSG_IMAGE_BROKEN = "Berkas {kind} rusak atau tidak lengkap; unggah ulang dari berkas aslinya."
MSG_IMAGE_TOO_BIG = "Dimensi gambar terlalu besar; perkecil resolusi pindaian lalu unggah ulang."


class UploadRefused(ValueError):
    """A file we will not store; str(exc) is an Indonesian message for staff."""


@dataclass(frozen=True)
class StoredFile:
    storage_key: str  # "<sha256 hex>" — the name on disk is storage_path(dir, key)
    sha256: str
    size_bytes: int
    media_type: str  # application/pdf | image/jpeg | image/png
    original_filename: str  # the checked, NFC-normalised name


def check_filename(name: str | None) -> str:
    """Return the NFC-normalised name, or raise UploadRefused if it is unsafe as a label."""
    if name is None:
        raise UploadRefused(MSG_EMPTY_NAME)
    name = unicodedata.normalize("NFC", name)
    if not name.strip():
        raise UploadRefused(MSG_EMPTY_NAME)
    if len(name) > MAX_FILENAME_CHARS:
        raise UploadRefused(MSG_LONG_NAME)
    # With no separators allowed, "." and ".." are the only possible path-part names;
    # "surat..final.pdf" is an ordinary name.
    if "/" in name or "\\" in name or name in {".", ".."}:
        raise UploadRefused(MSG_PATH_NAME)
    if any(ch in _BIDI_CONTROLS or unicodedata.category(ch) in _REFUSED_CATEGORIES for ch in name):
        raise UploadRefused(MSG_CONTROL_NAME)
    return name


def sniff_media_type(head: bytes, path: Path) -> str:
    """Media type from the content: `head` is the start of the file, `path` the whole file."""
    if head.startswith(PDF_SIGNATURE):
        if not _has_pdf_eof(path):
            raise UploadRefused(MSG_PDF_NO_EOF)
        return "application/pdf"
    if head.startswith(PNG_SIGNATURE):
        _check_image(path, "PNG")
        return "image/png"
    if head.startswith(JPEG_SIGNATURE):
        _check_image(path, "JPEG")
        return "image/jpeg"
    raise UploadRefused(MSG_TYPE)


def store_upload(stream: BinaryIO, filename: str | None, storage_dir: Path, max_bytes: int) -> StoredFile:
    """Check and store one upload; on refusal (or any error) nothing is left in storage_dir."""
    original_filename = check_filename(filename)  # before reading a single byte
    private_dir(storage_dir)  # documents are for the service account only, whatever the umask
    # The temp file lives in storage_dir so os.replace stays on one filesystem (atomic);
    # the dot prefix keeps it apart from the two-character shard directories.
    fd, tmp_name = tempfile.mkstemp(prefix=".upload-", suffix=".part", dir=storage_dir)
    tmp = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        size = 0
        with os.fdopen(fd, "wb") as out:
            # Never ask for more than one byte past the limit: that byte proves it was passed.
            while chunk := stream.read(min(CHUNK_BYTES, max_bytes + 1 - size)):
                size += len(chunk)
                if size > max_bytes:
                    raise UploadRefused(MSG_TOO_LARGE.format(limit=_format_limit(max_bytes)))
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
            os.fchmod(out.fileno(), FILE_MODE)  # mkstemp's 0o600 already; said here, not assumed
        if size == 0:
            raise UploadRefused(MSG_EMPTY_FILE)
        with tmp.open("rb") as written:
            head = written.read(HEAD_BYTES)
        media_type = sniff_media_type(head, tmp)

        storage_key = digest.hexdigest()
        target = storage_path(storage_dir, storage_key)
        private_dir(target.parent)
        if target.exists():
            tmp.unlink()  # same bytes already stored
        else:
            # Two concurrent uploads of the same bytes may both get here; replacing a file
            # with identical content is harmless.
            os.replace(tmp, target)
            _fsync_dir(target.parent)
            _fsync_dir(storage_dir)  # the shard directory may be new
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return StoredFile(
        storage_key=storage_key,
        sha256=storage_key,
        size_bytes=size,
        media_type=media_type,
        original_filename=original_filename,
    )


def storage_path(storage_dir: Path, storage_key: str) -> Path:
    """Where a stored file lives; the key must be a lowercase sha256 hex digest."""
    if not isinstance(storage_key, str) or not _STORAGE_KEY.fullmatch(storage_key):
        raise ValueError(f"invalid storage key: {storage_key!r}")
    return storage_dir / storage_key[:2] / storage_key


def _format_limit(max_bytes: int) -> str:
    """1048576 -> "1 MB", 1572864 -> "1,5 MB" (Indonesian decimal comma), 1024 -> "1 KB"."""
    for unit, unit_bytes in (("MB", 1024 * 1024), ("KB", 1024)):
        if max_bytes >= unit_bytes:
            value = f"{max_bytes / unit_bytes:.1f}".rstrip("0").rstrip(".")
            return f"{value.replace('.', ',')} {unit}"
    return f"{max_bytes} byte"


def _has_pdf_eof(path: Path) -> bool:
    with path.open("rb") as pdf:
        pdf.seek(0, os.SEEK_END)
        pdf.seek(max(0, pdf.tell() - PDF_EOF_WINDOW))
        return b"%%EOF" in pdf.read()


def _check_image(path: Path, kind: str) -> None:
    """Let Pillow parse the whole image; `formats` keeps every other Pillow parser away."""
    try:
        with Image.open(path, formats=[kind]) as image:
            if kind == "PNG":
                image.verify()  # walks every chunk and checks its CRC, without decoding
            else:
                # JPEG's verify() only repeats the header parse done by open(), so decode
                # instead — at 1/8 scale, which still reads the whole scan (catches
                # truncation) at a fraction of the memory.
                image.draft(None, (1, 1))
                image.load()
    except Image.DecompressionBombError:
        raise UploadRefused(MSG_IMAGE_TOO_BIG) from None
    except Exception as exc:  # Pillow signals corrupt input with many exception types
        raise UploadRefused(MSG_IMAGE_BROKEN.format(kind=kind)) from exc


def _fsync_dir(path: Path) -> None:
    """Make a rename durable: the directory entry must reach the disk, not just the file."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
