import pytest

from app.validators import (
    InvalidValue,
    normalize_email,
    normalize_nib,
    normalize_nik,
    normalize_npwp,
    normalize_phone,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("6108014508950001", "6108014508950001"),  # woman born 5 Aug 1995 in Ngabang
        ("6108010508950001", "6108010508950001"),  # man, same date
        ("6108 0145 0895 0001", "6108014508950001"),
        ("3201011508950001", "3201011508950001"),  # Kabupaten Bogor: other regencies are fine
    ],
)
def test_valid_nik_is_normalised_to_16_digits(raw, expected):
    assert normalize_nik(raw) == expected


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("610801450895000", "16 digits"),
        ("61080145089500012", "16 digits"),
        ("6108A14508950001", "16 digits"),
        ("9908014508950001", "region"),  # no province 99
        ("6199014508950001", "region"),  # no regency 61.99
        ("6108013208950001", "birth date"),  # day 32
        ("6108017208950001", "birth date"),  # woman's day 72 - 40 = 32
        ("6108010513950001", "birth date"),  # month 13
        ("6108014508950000", "serial"),
    ],
)
def test_structurally_wrong_nik_is_refused(raw, why):
    with pytest.raises(InvalidValue) as refused:
        normalize_nik(raw)
    assert why in str(refused.value.message)


def test_nib_is_13_digits():
    assert normalize_nib("9120 0000 00001") == "9120000000001"
    for bad in ("912000000000", "91200000000012", "912000000000X"):
        with pytest.raises(InvalidValue):
            normalize_nib(bad)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("01.234.567.8-901.000", "012345678901000"), ("0123456789012345", "0123456789012345")],
)
def test_npwp_keeps_15_or_16_digits(raw, expected):
    assert normalize_npwp(raw) == expected


@pytest.mark.parametrize("bad", ["1234", "01.234.567.8-901.00", "01234567890123456"])
def test_npwp_of_other_lengths_is_refused(bad):
    with pytest.raises(InvalidValue):
        normalize_npwp(bad)


def test_email_and_phone():
    assert normalize_email(" Budi@Contoh.co.id ") == "Budi@contoh.co.id"
    assert normalize_phone("0812-3456-7890") == "081234567890"
    for bad in ("budi@", "budi contoh.co.id", "@contoh.co.id"):
        with pytest.raises(InvalidValue):
            normalize_email(bad)
    with pytest.raises(InvalidValue):
        normalize_phone("12345")


def test_npwp_check_agrees_with_lokal_id_on_every_form():
    """normalize_npwp skips lokal-id for the forms it only counts digits of; this keeps that true."""
    from lokal import parse_npwp

    samples = [
        "012345678901000", "999999999999999", "000000000000000",  # 15 digits
        "0123456789012345", "0000000000000000",  # 16 digits, 0-prefixed
        "6108014508950001", "6108015508950001", "6108010000000000", "9999999999999999",  # NIK form
    ]
    for npwp in samples:
        try:
            ours = normalize_npwp(npwp) == npwp
        except ValueError:
            ours = False
        assert ours == parse_npwp(npwp).valid, npwp


@pytest.mark.parametrize(
    ("check", "raw"),
    [
        (normalize_nib, "٩١٢٠٠٠٠٠٠٠٠٠١"),                 # Arabic-Indic digits: \d would take them
        (normalize_nik, "٦١٠٨٠١٤٥٠٨٩٥٠٠٠١"),
        (normalize_npwp, "০১২৩৪৫৬৭৮৯০১০০০"),             # Bengali
        (normalize_phone, "0８１２３４５６７８９０"),    # full-width
        (normalize_nib, "９１２００００００００００１"),
    ],
)
def test_only_ascii_digits_are_digits(check, raw):
    """Another script's digits look like a number to a clerk and to \\d, but no register or
    national system would find the stored value again."""
    with pytest.raises(InvalidValue):
        check(raw)
