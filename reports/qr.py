"""QR codes as PNG data URIs, so a paper embeds them without any file or network access."""
from __future__ import annotations

import segno

# 4 px per module and the 4-module quiet zone the standard asks for: sharp once scaled to
# about 3 cm on paper, and small enough to keep the PDF light.
QR_SCALE = 4
QR_BORDER = 4


def qr_data_uri(payload: str) -> str:
    """`data:image/png;base64,...` of the QR code encoding payload.

    Error correction is M exactly (segno would otherwise boost it when that fits the same
    version), and never a Micro QR, which phone scanners often cannot read.
    """
    code = segno.make(payload, error="m", boost_error=False, micro=False)
    return code.png_data_uri(scale=QR_SCALE, border=QR_BORDER)
