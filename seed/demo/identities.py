"""Parties: companies and their applicants, with NIK, NIB, NPWP, e-mail and phone that pass
app.validators, unique within the run; and the dossiers' receipt numbers.
"""
from __future__ import annotations

import datetime as dt
import random
import re
from array import array
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from app.regions import desa_choices, kecamatan_choices
from app.sop.calendar import WorkingCalendar
from app.sop.intake import RECEIPT_ALPHABET, RECEIPT_RANDOM_LENGTH

from .names import (
    CHINESE_GIVEN_FEMALE,
    CHINESE_GIVEN_MALE,
    CHINESE_INDO_FEMALE,
    CHINESE_INDO_MALE,
    CHINESE_INDO_SECOND,
    CHINESE_SURNAME,
    COMPANY_HEAD,
    COMPANY_PLACE,
    COMPANY_TAIL,
    COMPANY_TAIL2,
    DAYAK_FAMILY,
    DAYAK_FEMALE,
    DAYAK_MALE,
    JAVANESE_FEMALE,
    JAVANESE_MALE,
    JAVANESE_SECOND,
    KECAMATAN_WEIGHT,
    KOPERASI_KIND,
    LEGAL_FORM_WEIGHTS,
    MALAY_FEMALE,
    MALAY_MALE,
    MALAY_SECOND,
    MOBILE_PREFIXES,
    NIB_PREFIXES,
    NPWP_KPP,
    POSITIONS,
    STREETS,
    YAYASAN_KIND,
)
from .walk import WorkClock

BIRTH_FROM = dt.date(1962, 1, 1)
BIRTH_DAYS = 365 * 40
COMPANY_NAME_DRAWS = 4


@dataclass
class _Company:
    row: dict[str, Any]
    applicants: list[dict[str, Any]]
    id: int | None = None


class _Generator:
    def __init__(self, rng: random.Random, clock: WorkClock, calendar: WorkingCalendar) -> None:
        self.rng = rng
        self.clock = clock
        self.calendar = calendar
        # Uniqueness without a set of every string: numbers as ints, names and e-mail addresses as a
        # count per base (the next one gets a suffix), NIK serials as a count per region, birth date and sex.
        self.nibs: set[int] = set()
        self.npwps: set[int] = set()
        self.receipts: set[int] = set()
        self.company_names: dict[str, int] = {}
        self.emails: dict[str, int] = {}
        self.n_applicants = 0
        kecamatan = [code for code, _ in kecamatan_choices("61.08")]
        self.kecamatan = kecamatan
        self.kecamatan_index = {code: i for i, code in enumerate(kecamatan)}
        self.nik_counts = array("H", bytes(2 * len(kecamatan) * BIRTH_DAYS * 2))
        self.kecamatan_weights = [KECAMATAN_WEIGHT.get(code, 4) for code in kecamatan]
        self.desa_by_kecamatan: dict[str, list[str]] = defaultdict(list)
        # "<desa>, Kec. <kecamatan>" per kecamatan: the tail of a pool site's address.
        self.places_by_kecamatan: dict[str, list[str]] = defaultdict(list)
        for code, label in desa_choices("61.08"):
            kecamatan_code = code.rsplit(".", 1)[0]
            self.desa_by_kecamatan[kecamatan_code].append(code)
            kecamatan_name, desa_name = label.split(" – ", 1)
            self.places_by_kecamatan[kecamatan_code].append(f"{desa_name}, Kec. {kecamatan_name}")

    # ---- identity numbers

    def nik(self, kecamatan_code: str, birth: dt.date, female: bool) -> str:
        """Region, birth date (+40 for women), then a serial unique within that region, date and sex."""
        region = kecamatan_code.replace(".", "")
        day = birth.day + (40 if female else 0)
        stem = f"{region}{day:02d}{birth.month:02d}{birth.year % 100:02d}"
        slot = (self.kecamatan_index[kecamatan_code] * BIRTH_DAYS + (birth - BIRTH_FROM).days) * 2 + female
        taken = self.nik_counts[slot]
        assert taken < 9999, "more than 9,999 people of one region, birth date and sex"
        self.nik_counts[slot] = taken + 1
        # Serials start at a point of their own per stem, as if others had registered before.
        return f"{stem}{(slot * 7919 + taken) % 9999 + 1:04d}"

    def nib(self) -> str:
        while True:
            serial = self.rng.randrange(10**9)
            prefix = self.rng.choice(NIB_PREFIXES)
            if serial not in self.nibs:  # unique serial: unique whatever the prefix
                self.nibs.add(serial)
                return f"{prefix}{serial:09d}"

    def npwp(self) -> str:
        """15-digit legacy NPWP of a company (type 01-03), or its 16-digit form (leading 0)."""
        while True:
            kind, number = self.rng.randint(1, 3), self.rng.randrange(10**6)
            kpp = self.rng.choice(NPWP_KPP)
            long_form = self.rng.random() < 0.3
            key = kind * 10**6 + number  # unique serial: unique in either form, whatever the KPP
            if key not in self.npwps:
                self.npwps.add(key)
                serial = f"{kind:02d}{number:06d}"
                base = f"{serial}{_luhn_digit(serial)}{kpp}000"
                return f"0{base}" if long_form else base

    def mobile(self) -> str:
        return f"{self.rng.choice(MOBILE_PREFIXES)}{self.rng.randrange(10**8):08d}"

    def email(self, local: str, domain: str) -> str:
        local = re.sub(r"[^a-z0-9.]+", "", local.lower().replace(" ", ".")).strip(".") or "kontak"
        # Locals hold no digits, so "budi2" can only be the second "budi".
        base = f"{local}@{domain}"
        n = self.emails.get(base, 0) + 1
        self.emails[base] = n
        return base if n == 1 else f"{local}{n}@{domain}"

    # ---- people and companies

    def person(self) -> tuple[str, bool]:
        rng = self.rng
        female = rng.random() < 0.3
        group = rng.choices(("dayak", "malay", "chinese", "javanese"), weights=(45, 25, 15, 15))[0]
        if group == "dayak":
            first = rng.choice(DAYAK_FEMALE if female else DAYAK_MALE)
            name = f"{first} {rng.choice(DAYAK_FAMILY)}"
        elif group == "malay":
            first = rng.choice(MALAY_FEMALE if female else MALAY_MALE)
            name = f"{first} {rng.choice(MALAY_SECOND)}"
        elif group == "chinese":
            if rng.random() < 0.4:
                given = rng.choice(CHINESE_GIVEN_FEMALE if female else CHINESE_GIVEN_MALE)
                name = f"{rng.choice(CHINESE_SURNAME)} {given}"
            else:
                first = rng.choice(CHINESE_INDO_FEMALE if female else CHINESE_INDO_MALE)
                second = rng.choice(CHINESE_INDO_SECOND + CHINESE_SURNAME)
                name = f"{first} {second}" if first != second else first
        else:
            first = rng.choice(JAVANESE_FEMALE if female else JAVANESE_MALE)
            name = f"{first} {rng.choice(JAVANESE_SECOND)}" if rng.random() < 0.8 else first
        return name, female

    def company_name(self, legal_form: str) -> str:
        """Head, place and tail words (plus a kind for cooperatives and foundations); a few draws
        look for a name not taken yet, then the name is taken again with a Roman numeral after it
        ("CV Sinar Landak Jaya II"), as firms do. Unique at any count."""
        rng = self.rng
        for _ in range(COMPANY_NAME_DRAWS):
            if legal_form == "KOPERASI":
                name = f"{rng.choice(KOPERASI_KIND)} {rng.choice(COMPANY_PLACE)} {rng.choice(COMPANY_TAIL)}"
            elif legal_form == "YAYASAN":
                name = f"{rng.choice(YAYASAN_KIND)} {rng.choice(COMPANY_HEAD)} {rng.choice(COMPANY_PLACE)}"
            else:
                words = [rng.choice(COMPANY_HEAD), rng.choice(COMPANY_PLACE), rng.choice(COMPANY_TAIL)]
                tail2 = rng.choice(COMPANY_TAIL2)
                if tail2 and tail2 not in words:
                    words.append(tail2)
                core = " ".join(words)
                name = {
                    "PT": f"PT {core}",
                    "CV": f"CV {core}",
                    "FIRMA": f"Firma {core}",
                    "PERSEORANGAN": f"UD {core}",
                    "BUMD": f"PT {core} (Perseroda)",
                }[legal_form]
            if name not in self.company_names:
                break
        # Part lists hold no Roman numerals, so a numbered name never meets a drawn one.
        n = self.company_names.get(name, 0) + 1
        self.company_names[name] = n
        if n == 1:
            return name
        if name.endswith(" (Perseroda)"):
            return f"{name[: -len(' (Perseroda)')]} {_roman(n)} (Perseroda)"
        return f"{name} {_roman(n)}"

    def sk_kemenkumham(self, legal_form: str, year: int) -> str | None:
        n = self.rng.randint(1, 99999)
        if legal_form in ("PT", "BUMD"):
            return f"AHU-{n:07d}.AH.01.01.Tahun {year}"
        if legal_form in ("CV", "FIRMA"):
            return f"AHU-{n:07d}-AH.01.14 Tahun {year}" if year >= 2018 else None
        if legal_form == "KOPERASI":
            return f"AHU-{n:07d}.AH.01.26.Tahun {year}" if year >= 2019 else None
        if legal_form == "YAYASAN":
            return f"AHU-{n:07d}.AH.01.04.Tahun {year}"
        return None

    def company(self, reference: dt.date) -> _Company:
        rng = self.rng
        legal_form = rng.choices([f for f, _ in LEGAL_FORM_WEIGHTS], weights=[w for _, w in LEGAL_FORM_WEIGHTS])[0]
        name = self.company_name(legal_form)
        kecamatan = rng.choices(self.kecamatan, weights=self.kecamatan_weights)[0]
        desa = rng.choice(self.desa_by_kecamatan[kecamatan])
        # Older firms are fewer: deed dates lean towards recent years.
        span = (reference - dt.timedelta(days=180) - dt.date(1998, 1, 1)).days
        deed_date = dt.date(1998, 1, 1) + dt.timedelta(days=int(span * rng.random() ** 0.6))
        sk_year = deed_date.year if rng.random() < 0.8 or deed_date.year == reference.year else deed_date.year + 1
        slug = re.sub(r"\((.*?)\)|^(PT|CV|UD|Firma) ", "", name).lower().replace(" ", "")
        phone = f"0563{rng.randint(21000, 29999)}" if rng.random() < 0.5 else self.mobile()
        row = dict(
            name=name,
            legal_form=legal_form,
            nib=self.nib(),
            npwp=self.npwp(),
            deed_number=str(rng.randint(1, 120)),
            deed_date=deed_date,
            sk_kemenkumham=self.sk_kemenkumham(legal_form, sk_year),
            address=f"Jl. {rng.choice(STREETS)} No. {rng.randint(1, 250)}",
            kecamatan_code=kecamatan,
            desa_code=desa,
            phone=phone,
            email=self.email(slug[:40], "usaha.example"),
        )
        firsts, seconds = POSITIONS[legal_form]
        applicants = [self.applicant(kecamatan, rng.choice(firsts))]
        if rng.random() < 0.25:
            applicants.append(self.applicant(kecamatan, rng.choice(seconds)))
        return _Company(row=row, applicants=applicants)

    def applicant(self, company_kecamatan: str, position: str) -> dict[str, Any]:
        rng = self.rng
        self.n_applicants += 1
        name, female = self.person()
        home = company_kecamatan if rng.random() < 0.7 else rng.choices(self.kecamatan, weights=self.kecamatan_weights)[0]
        birth = BIRTH_FROM + dt.timedelta(days=rng.randrange(BIRTH_DAYS))
        return dict(
            full_name=name,
            nik=self.nik(home, birth, female),
            email=self.email(name, "surel.example"),
            phone=self.mobile(),
            position=position,
        )

    def site(self, company_kecamatan: str) -> tuple[str, int, int]:
        """The vehicle pool a dossier asks for: (address, area in m², vehicles it holds).

        Mostly in the company's own kecamatan, on a road a lorry can reach; bigger yards hold
        more vehicles (40-80 m² each, with turning space), 5 to 80.
        """
        random = self.rng.random
        kecamatan = company_kecamatan if random() < 0.6 else self.rng.choices(self.kecamatan, self.kecamatan_weights)[0]
        places = self.places_by_kecamatan[kecamatan]
        street = STREETS[int(random() * len(STREETS))]
        where = f"Km {1 + int(random() * 25)}" if random() < 0.35 else f"No. {1 + int(random() * 250)}"
        address = f"Jl. {street} {where}, {places[int(random() * len(places))]}"
        area = 400 + int(4600 * random() ** 1.6) // 10 * 10
        capacity = min(80, max(5, int(area / (40 + 40 * random()))))
        return address, area, capacity

    def receipt(self, prefix: str, t: int) -> str:
        yy = self.clock.yy[t // self.clock.day_seconds]
        bits = 5 * RECEIPT_RANDOM_LENGTH
        while True:
            n = self.rng.getrandbits(bits)
            if n not in self.receipts:  # unique tail: unique whatever the year
                self.receipts.add(n)
                tail = "".join(RECEIPT_ALPHABET[(n >> (5 * k)) & 31] for k in range(RECEIPT_RANDOM_LENGTH))
                return f"{prefix}-{yy}-{tail}"


def _roman(n: int) -> str:
    out = []
    for value, numeral in ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"), (50, "L"),
                           (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")):
        count, n = divmod(n, value)
        out.append(numeral * count)
    return "".join(out)


def _luhn_digit(digits: str) -> int:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return (10 - total % 10) % 10
