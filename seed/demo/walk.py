"""Office time and the stage walk: where a dossier stands, and its history, on the reference date.

WorkClock turns office hours into one integer; the inverse-CDF tables draw stays cheaply; _Walker
moves one dossier through the SOP stages and writes its stage_event rows.
"""
from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass
from statistics import NormalDist

from app.models import Stage
from app.sop.calendar import WorkingCalendar
from app.sop.intake import SUBMIT_ACTION

from .errors import DemoError

ADVANCE = "advance"
RETURN = "return"
RESUME = "resume"
REJECT = "reject"

# Outcome shares (before the reference date cuts recent dossiers short).
P_RETURNED = 0.05  # sent back to the applicant and never resumed
P_REJECTED = 0.03  # refused at Kasi, Kabid or Kepala Dinas
P_DETOUR = 0.08  # of the others: returned once, then resumed
P_UNCOLLECTED = 0.03  # issued, but the applicant never came to collect it

# Stages the generator relies on, in SOP order. Which stage issues the permit is not among them:
# it is the SOP's own (Stage.issues_permit); without one, no demo permit is issued.
STAGE_CODES = (
    "BERKAS", "REGISTRASI", "LOGIN", "PENGISIAN_DATA", "TANDA_TERIMA_BERKAS", "ENTRY_DATA",
    "VERIFIKASI", "PEMERIKSAAN_LAPANGAN", "DRAFT_IZIN", "PEMERIKSAAN_KASI", "PARAF_KABID",
    "PENANDATANGANAN", "PENYERAHAN", "PENGARSIPAN",
)
RETURN_FROM = ("ENTRY_DATA", "VERIFIKASI")
REJECT_AT = (("PEMERIKSAAN_KASI", 0.5), ("PARAF_KABID", 0.3), ("PENANDATANGANAN", 0.2))
HANDOVER_AT = "PENYERAHAN"
ARCHIVED_AT = "PENGARSIPAN"

# Mean queue before work starts at a stage, in working minutes (the dossier waits in a tray).
QUEUE_MINUTES = {
    "PENGISIAN_DATA": 3, "TANDA_TERIMA_BERKAS": 2, "ENTRY_DATA": 5, "VERIFIKASI": 40,
    "PEMERIKSAAN_LAPANGAN": 90, "DRAFT_IZIN": 30, "PEMERIKSAAN_KASI": 45, "PARAF_KABID": 45,
    "PENANDATANGANAN": 60, "PENOMORAN_CETAK": 20, "PENYERAHAN": 510 * 1.5, "PENGARSIPAN": 60,
}

RETURN_NOTES = (
    "Akta pendirian belum dilegalisir notaris",
    "Bukti penguasaan lahan pool tidak atas nama perusahaan",
    "Fotokopi STNK kendaraan tidak lengkap",
    "Denah lokasi pool tidak sesuai kondisi lapangan",
    "KTP penanggung jawab sudah tidak berlaku",
    "NPWP perusahaan tidak sesuai dengan akta",
    "Surat permohonan belum ditandatangani direktur",
)
REJECT_NOTES = (
    "Lokasi pool berada di ruang milik jalan",
    "Lokasi pool tidak sesuai RTRW Kabupaten Landak",
    "Rekomendasi Andalalin tidak memenuhi syarat",
    "Kapasitas lahan tidak memadai untuk jumlah kendaraan",
    "Pool berada di kawasan permukiman padat tanpa akses keluar-masuk memadai",
)


# --------------------------------------------------------------------------- working time

class WorkClock:
    """Office time as one integer: seconds of office hours since the window's first working day.

    t // day_seconds is the index of a working day, t % day_seconds the seconds since opening, so
    adding working time is plain addition and every instant lands inside office hours.
    """

    def __init__(self, calendar: WorkingCalendar, first_day: dt.date, end_day: dt.date) -> None:
        tz = calendar.tz
        self.day_seconds = int(
            (dt.datetime.combine(first_day, calendar.closes) - dt.datetime.combine(first_day, calendar.opens)).total_seconds()
        )
        self.days: list[dt.date] = []
        day = first_day
        while day < end_day:
            if calendar.is_working_day(day):
                self.days.append(day)
            day += dt.timedelta(days=1)
        if not self.days:
            raise DemoError("Tidak ada hari kerja dalam rentang tanggal data demo.")
        self.opens_utc = [
            dt.datetime.combine(d, calendar.opens, tzinfo=tz).astimezone(dt.timezone.utc) for d in self.days
        ]
        self._opens_naive = [d.replace(tzinfo=None) for d in self.opens_utc]
        self.yy = [f"{d:%y}" for d in self.days]
        self.end = len(self.days) * self.day_seconds  # the reference date's midnight, in office time
        # Text stamps as "date prefix" + "time of day" from a table, when office hours do not cross
        # midnight UTC (true for WIB: 00:30-09:00 UTC).
        tables: dict[int, list[str]] = {}
        self._text: list[tuple[str, list[str]] | None] = []
        for opens in self._opens_naive:
            if (opens + dt.timedelta(seconds=self.day_seconds - 1)).date() != opens.date():
                self._text.append(None)
                continue
            base = opens.hour * 3600 + opens.minute * 60 + opens.second
            if base not in tables:
                tables[base] = [
                    f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}.000000" for s in range(base, base + self.day_seconds)
                ]
            self._text.append((f"{opens:%Y-%m-%d} ", tables[base]))

    def at(self, t: int) -> dt.datetime:
        day, second = divmod(t, self.day_seconds)
        return self.opens_utc[day] + dt.timedelta(seconds=second)

    def stamp_text(self, t: int) -> str:
        """UTC as SQLAlchemy's SQLite DateTime stores it ('2026-01-05 00:30:00.000000')."""
        day, second = divmod(t, self.day_seconds)
        fast = self._text[day]
        if fast is not None:
            return fast[0] + fast[1][second]
        return (self._opens_naive[day] + dt.timedelta(seconds=second)).isoformat(" ") + ".000000"

    def text_stamp(self, suffix: str = ""):  # noqa: ANN201
        """stamp_text as one closure, with `suffix` after each stamp ("+00" for PostgreSQL's COPY)."""
        day_seconds, text, opens = self.day_seconds, self._text, self._opens_naive

        def stamp(t: int) -> str:
            day, second = divmod(t, day_seconds)
            fast = text[day]
            if fast is not None:
                return fast[0] + fast[1][second] + suffix
            return (opens[day] + dt.timedelta(seconds=second)).isoformat(" ") + ".000000" + suffix

        return stamp

    def local_date(self, t: int) -> dt.date:
        return self.days[t // self.day_seconds]


# Inverse-CDF tables: one random() picks a quantile. Much cheaper than random.lognormvariate
# or expovariate at 1.5 million draws, and just as deterministic.
_TABLE = 1024
_P = [(k + 0.5) / _TABLE for k in range(_TABLE)]
WORK_FACTOR = [math.exp(NormalDist(-0.3, 0.35).inv_cdf(p)) for p in _P]  # median 0.74, ~20 % over standard
SLOWNESS = [math.exp(NormalDist(0.0, 0.25).inv_cdf(p)) for p in _P]  # per dossier: busy weeks, slow officers
EXPONENTIAL = [-math.log(1.0 - p) for p in _P]  # mean 1


@dataclass
class _Walked:
    stage: int  # index of the stage the dossier stands at on the reference date
    last_action: str
    moves: int  # history rows written
    left_at: dict[int, int]  # stage index -> first time the dossier advanced out of it
    issued_at: int | None  # when it advanced into the issuing stage: the permit's number and date
    archived_at: int | None
    finished: bool = False  # advanced past the last stage: archived


class _Walker:
    """Walks one dossier through the stages in office time and writes its history rows.

    The walk stops at its outcome (archived, returned, rejected, never collected) or at the
    reference date, whichever comes first: what lies after the reference date has not happened.
    """

    def __init__(self, rng: random.Random, clock: WorkClock, stages: list[Stage], stamp) -> None:  # noqa: ANN001
        self.rng = rng
        self.clock = clock
        self.stamp = stamp
        self.stage_ids = [s.id for s in stages]
        self.index = {s.code: i for i, s in enumerate(stages)}
        self.work = [s.time_standard_minutes * 60 for s in stages]
        self.queue = [QUEUE_MINUTES.get(s.code, 0) * 60 for s in stages]
        ix = self.index
        self.return_from = [ix[c] for c in RETURN_FROM]
        self.reject_at = [ix[c] for c, _ in REJECT_AT]
        self.reject_weights = [w for _, w in REJECT_AT]
        self.inspection = ix["PEMERIKSAAN_LAPANGAN"]
        self.handover = ix[HANDOVER_AT]
        # As app.sop.machine does it: advancing INTO the (first) issuing stage issues the permit.
        # -1, never reached, when the SOP has none.
        self.issued = next((i for i, s in enumerate(stages) if s.issues_permit), -1)
        self.archived = ix[ARCHIVED_AT]
        self.last = len(stages) - 1

    def walk(self, t0: int, dossier_id: int, out: list[tuple]) -> _Walked:
        rng = self.rng
        random = rng.random
        r = random()
        outcome = "returned" if r < P_RETURNED else "rejected" if r < P_RETURNED + P_REJECTED else "done"
        return_at = rng.choice(self.return_from) if outcome == "returned" or random() < P_DETOUR else -1
        reject_at = rng.choices(self.reject_at, weights=self.reject_weights)[0] if outcome == "rejected" else -1
        slow = SLOWNESS[int(random() * _TABLE)]
        end, day = self.clock.end, self.clock.day_seconds
        work, queue, sid, stamp = self.work, self.queue, self.stage_ids, self.stamp
        inspection, handover, last, issued, archived = self.inspection, self.handover, self.last, self.issued, self.archived

        out.append((dossier_id, None, sid[0], SUBMIT_ACTION, None, stamp(t0), None))
        moves, last_action, left_at = 1, SUBMIT_ACTION, {}
        issued_at = archived_at = None
        finished = False
        t, i = t0, 0
        while True:
            stay = work[i] * WORK_FACTOR[int(random() * _TABLE)] * slow
            if queue[i]:
                stay += queue[i] * EXPONENTIAL[int(random() * _TABLE)]
            if i == inspection and random() < 0.1:
                stay += (1 + 3 * random()) * day  # inspection rescheduled
            t += int(stay) if stay > 30 else 30
            if t >= end:
                break
            if i == return_at:
                # As app.sop.machine does it: the dossier stays at its stage while returned, and
                # the Front Office resumes it there when the applicant brings what was missing.
                note = rng.choice(RETURN_NOTES)
                out.append((dossier_id, sid[i], sid[i], RETURN, None, stamp(t), note))
                moves, last_action = moves + 1, RETURN
                if outcome == "returned":
                    break
                return_at = -1
                t += int(4 * EXPONENTIAL[int(random() * _TABLE)] * day)  # until the applicant comes back
                if t >= end:
                    break
                out.append((dossier_id, sid[i], sid[i], RESUME, None, stamp(t), None))
                moves, last_action = moves + 1, RESUME
                continue
            if i == reject_at:
                out.append((dossier_id, sid[i], sid[i], REJECT, None, stamp(t), rng.choice(REJECT_NOTES)))
                moves, last_action = moves + 1, REJECT
                break
            if i == last:
                # Advancing past the last stage completes the SOP: the dossier is archived.
                out.append((dossier_id, sid[i], None, ADVANCE, None, stamp(t), None))
                moves, last_action, finished = moves + 1, ADVANCE, True
                break
            if i == handover and random() < P_UNCOLLECTED:
                break
            out.append((dossier_id, sid[i], sid[i + 1], ADVANCE, None, stamp(t), None))
            moves, last_action = moves + 1, ADVANCE
            if i not in left_at:
                left_at[i] = t
            i += 1
            if i == issued:
                issued_at = t
            if i == archived:
                archived_at = t
        return _Walked(i, last_action, moves, left_at, issued_at, archived_at, finished)
