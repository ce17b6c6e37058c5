"""A small, consistent synthetic warehouse for the report tests: one registry snapshot and two (or more) periods.

Written straight through the models, as the ingestion, linkage and eligibility stages would leave it, so the reports
can be built and checked without those stages. `fill_warehouse` returns a `Truth` with the figures computed here in
plain Python, independently of the report SQL, for the tests to compare against.

Layout: 7 kelurahan in 4 kecamatan (Telanaipura, Jambi Timur, Alam Barajo, Jelutung), 8 households each.
In the last period one single-person extreme-poor household loses its member (death) and a newborn makes a household
PKH-eligible, so there are eligibility changes; Koperasi has not sent; Dinkes' reload was rejected; Disdik was late.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import select, update

from tkpk.period import Period
from tkpk.warehouse import session_scope
from tkpk.warehouse.models import (
    EligibilityChange,
    EligibilityDecision,
    ExpectedSubmission,
    Finding,
    HouseholdLink,
    RegistryHousehold,
    RegistryPerson,
    RegistrySnapshot,
    ReviewItem,
    StagedRow,
    SubmissionBatch,
    TargetingResult,
)

PERIODS = ("2026-09", "2026-10")
KELURAHAN = {
    "15.71.01.1001": "15.71.01",  # Simpang IV Sipin (Telanaipura) - a lurah recipient
    "15.71.01.1002": "15.71.01",
    "15.71.03.1003": "15.71.03",  # Talang Banjar (Jambi Timur) - a lurah recipient
    "15.71.03.1001": "15.71.03",
    "15.71.09.1001": "15.71.09",
    "15.71.09.1002": "15.71.09",
    "15.71.08.1001": "15.71.08",  # Jelutung: no camat in recipients.yaml
}
DESIL = [1, 1, 1, 2, 3, 4, 5, 7]
BPJS_QUOTA = 3  # per kelurahan in this fixture (the real rule set says 50)
AMOUNTS = {"bpnt": 2_400_000, "pbi_jk": 504_000, "bpjs_tk": 201_600, "pkh_child": 900_000, "pkh_elder": 2_400_000,
           "pkh_baby": 3_000_000, "pip": 450_000}
OPD_TYPES = {
    "dinsos": "dinsos_kpm", "disnaker": "disnaker_bpjstk", "dinkes": "dinkes_ibu_hamil", "disdik": "disdik_siswa",
    "perkim": "perkim_rumah", "koperasi": "koperasi_pemberdayaan", "pertanian": "pertanian_bibit",
    "disdukcapil": "disdukcapil_mutasi",
}
DEADLINES = {"perkim": 7, "koperasi": 7, "pertanian": 7}


@dataclass
class Person:
    id_art: str
    id_keluarga: str
    nik: str
    nama: str
    sex: str
    born: date
    role: str
    sector: str
    jenjang: str | None


@dataclass
class Household:
    id_keluarga: str
    no_kk: str
    kel: str
    kec: str
    desil: int
    members: list[Person] = field(default_factory=list)


@dataclass
class Truth:
    """Figures computed here, independently of the report SQL (keys: period)."""

    households: int = 0
    persons: int = 0
    households_by_kec: Counter = field(default_factory=Counter)
    extreme_poor: dict = field(default_factory=dict)  # period -> city count
    extreme_poor_by_kec: dict = field(default_factory=dict)  # period -> Counter
    targeting: dict = field(default_factory=dict)  # period -> {(program, category): (count, rupiah)}
    changes: dict = field(default_factory=dict)  # period -> Counter((program, change))
    graduation: dict = field(default_factory=dict)  # period -> count
    review_open: int = 0
    proposal_households: int = 0
    proposal_persons: int = 0
    niks: list = field(default_factory=list)  # every full NIK/KK in the fixture (to scan outputs for)
    snapshot_id: int = 0


def _nik(kec: str, born: date, sex: str, serial: int) -> str:
    day = born.day + (40 if sex == "P" else 0)
    return f"1571{kec[-2:]}{day:02d}{born.month:02d}{born.year % 100:02d}{serial:04d}"


def build_households() -> list[Household]:
    names_l = ["Ahmad", "Budi", "Darmawan", "Hasan", "Irwan", "Joko", "Kemas Ali", "Muhammad Rizki", "Syahrial"]
    names_p = ["Aisyah", "Dewi", "Fitri", "Nurhayati", "Rahmawati", "Siti Aminah", "Yuliana", "Nyimas Ratna"]
    serial = 1
    out: list[Household] = []
    for k_index, (kel, kec) in enumerate(KELURAHAN.items()):
        digits = kel.replace(".", "")
        for i, desil in enumerate(DESIL):
            hid = f"KEL{digits}{i:02d}"
            kk = f"1571{kec[-2:]}1503{15 + i:02d}{1000 + k_index * 10 + i:04d}"
            hh = Household(hid, kk, kel, kec, desil)
            n = 1 if i == 0 else 2 + (i + k_index) % 4  # household 0 is a single person (dies in the last period)
            for j in range(n):
                if j == 0:
                    sex, role, born = "L", "kepala_keluarga", date(1975 + (i + k_index) % 15, 1 + i % 12, 3 + j)
                    sector, jenjang = "informal", None
                elif j == 1:
                    sex, role, born = "P", "istri", date(1980 + (i + k_index) % 12, 2 + i % 10, 10 + j)
                    sector, jenjang = "informal" if i % 2 else "tidak_bekerja", None
                elif j == 2:
                    sex, role, born = "L" if i % 2 else "P", "anak", date(2014 - i % 5, 5, 20)
                    sector, jenjang = "pelajar", "SD"
                else:
                    sex, role, born = "P", "orang_tua", date(1950 + i, 7, 1)  # an elder (>= 70)
                    sector, jenjang = "tidak_bekerja", None
                nik = _nik(kec, born, sex, serial)
                serial += 1
                name = (names_l if sex == "L" else names_p)[(serial + i) % (len(names_l) if sex == "L" else len(names_p))]
                hh.members.append(Person(f"ART{serial:05d}", hid, nik, name, sex, born, role, sector, jenjang))
            out.append(hh)
    return out


def _age(born: date, at: date) -> int:
    return at.year - born.year - ((at.month, at.day) < (born.month, born.day))


def decide(households: list[Household], period: str) -> list[dict]:
    """Simplified section-7 rules, enough for consistent report figures."""
    p = Period.parse(period)
    last = period == PERIODS[-1]
    rows: list[dict] = []
    bpjs_candidates: dict[str, list] = defaultdict(list)
    for hh in households:
        active = [m for m in hh.members if not (last and hh.id_keluarga.endswith("00") and hh.kel == "15.71.01.1001")]
        newborn = last and hh.kel == "15.71.03.1003" and hh.id_keluarga.endswith("02")  # 2 adults, no PKH component

        def add(program, eligible, benefit=0, id_art="", reasons="", rank=None, hh=hh):
            rows.append(dict(period=period, program=program, id_keluarga=hh.id_keluarga, id_art=id_art,
                             kode_kelurahan=hh.kel, kode_kecamatan=hh.kec, eligible=eligible, benefit_rupiah=benefit,
                             reasons=reasons, rank=rank))

        if not active:
            add("miskin_ekstrem", False, reasons="tidak_ada_anggota_aktif")
            continue
        add("miskin_ekstrem", hh.desil == 1, reasons=f"desil_{hh.desil}")
        if hh.desil <= 2:
            comps = []
            for m in active:
                age = _age(m.born, p.end)
                if age >= 70:
                    comps.append(AMOUNTS["pkh_elder"])
                elif m.jenjang == "SD" and age <= 21:
                    comps.append(AMOUNTS["pkh_child"])
            if newborn:
                comps.append(AMOUNTS["pkh_baby"])
            comps = sorted(comps, reverse=True)[:4]
            add("pkh", bool(comps), sum(comps), reasons=f"desil_{hh.desil};komponen" if comps else "tidak_ada_komponen")
        if hh.desil <= 4:
            add("bpnt", True, AMOUNTS["bpnt"], reasons=f"desil_{hh.desil}")
        if hh.desil <= 5:
            for m in active:
                add("pbi_jk", True, AMOUNTS["pbi_jk"], id_art=m.id_art, reasons=f"desil_{hh.desil}")
        if hh.desil == 1:
            for m in active:
                if m.sector == "informal" and 18 <= _age(m.born, p.end) <= 64:
                    bpjs_candidates[hh.kel].append((len(active), _age(m.born, p.end), m.id_art, hh))
        if hh.desil <= 4:
            for m in active:
                if m.jenjang == "SD":
                    add("pip", True, AMOUNTS["pip"], id_art=m.id_art, reasons="jenjang_SD")
        if hh.desil == 3 and hh.kel in ("15.71.01.1001", "15.71.09.1001"):
            add("kandidat_graduasi_pkh", True, reasons="pkh_aktif;tidak_layak_pkh")
    for _kel, cands in bpjs_candidates.items():
        cands.sort(key=lambda c: (-c[0], -c[1], c[2]))
        for rank, (_size, _years, id_art, hh) in enumerate(cands, start=1):
            ok = rank <= BPJS_QUOTA
            rows.append(dict(period=period, program="bpjs_tk", id_keluarga=hh.id_keluarga, id_art=id_art,
                             kode_kelurahan=hh.kel, kode_kecamatan=hh.kec, eligible=ok,
                             benefit_rupiah=AMOUNTS["bpjs_tk"] if ok else 0,
                             reasons="desil_1;usia_18_64" + ("" if ok else ";kuota_penuh"), rank=rank))
    return rows


def targeting(households: list[Household], decisions: list[dict], period: str) -> list[dict]:
    """Recipients: every eligible unit except every 4th (exclusion), plus desil-5..7 households receiving BPNT and
    PKH (inclusion). The same recipients every month, so errors move only when eligibility moves."""
    hh_by_id = {h.id_keluarga: h for h in households}
    out: list[dict] = []
    for program in ("pkh", "bpnt", "pbi_jk", "bpjs_tk", "pip"):
        eligible = sorted(
            (d for d in decisions if d["program"] == program and d["eligible"]),
            key=lambda d: (d["id_keluarga"], d["id_art"]),
        )
        keys = {(d["id_keluarga"], d["id_art"]) for d in eligible}
        for n, d in enumerate(eligible):
            receiving = n % 4 != 3
            out.append(dict(period=period, program=program, id_keluarga=d["id_keluarga"], id_art=d["id_art"] or None,
                            kode_kelurahan=d["kode_kelurahan"], kode_kecamatan=d["kode_kecamatan"], eligible=True,
                            receiving=receiving, category="tepat" if receiving else "exclusion",
                            rupiah=d["benefit_rupiah"], reason=d["reasons"]))
        if program in ("pkh", "bpnt"):
            for hh in households:
                if hh.desil >= 5 and (hh.id_keluarga, "") not in keys and int(hh.id_keluarga[-2:]) % 2 == 0:
                    amount = 1_800_000 if program == "pkh" else AMOUNTS["bpnt"]
                    out.append(dict(period=period, program=program, id_keluarga=hh.id_keluarga, id_art=None,
                                    kode_kelurahan=hh.kel, kode_kecamatan=hh.kec, eligible=False, receiving=True,
                                    category="inclusion", rupiah=amount, reason=f"desil_{hh.desil}"))
        # a PKH household that used to be eligible (died) still receives: inclusion
        if program == "pkh":
            for d in decisions:
                if d["program"] == "miskin_ekstrem" and not d["eligible"] and d["reasons"] == "tidak_ada_anggota_aktif":
                    hh = hh_by_id[d["id_keluarga"]]
                    out.append(dict(period=period, program="bpnt", id_keluarga=hh.id_keluarga, id_art=None,
                                    kode_kelurahan=hh.kel, kode_kecamatan=hh.kec, eligible=False, receiving=True,
                                    category="inclusion", rupiah=AMOUNTS["bpnt"], reason="tidak_ada_anggota_aktif"))
    return out


def changes(before: list[dict], after: list[dict], period: str) -> list[dict]:
    def eligible_keys(rows):
        return {(d["program"], d["id_keluarga"], d["id_art"]): d for d in rows if d["eligible"]}

    b, a = eligible_keys(before), eligible_keys(after)
    all_rows = {(d["program"], d["id_keluarga"], d["id_art"]): d for d in after}
    out = []
    for key in sorted(set(a) - set(b)):
        d = a[key]
        out.append(dict(period=period, program=key[0], id_keluarga=key[1], id_art=key[2], kode_kelurahan=d["kode_kelurahan"],
                        kode_kecamatan=d["kode_kecamatan"], change="baru_layak", reasons_before=None,
                        reasons_after=d["reasons"]))
    for key in sorted(set(b) - set(a)):
        d = b[key]
        now = all_rows.get(key)
        out.append(dict(period=period, program=key[0], id_keluarga=key[1], id_art=key[2], kode_kelurahan=d["kode_kelurahan"],
                        kode_kecamatan=d["kode_kecamatan"], change="tidak_layak_lagi", reasons_before=d["reasons"],
                        reasons_after=now["reasons"] if now else "meninggal"))
    return out


def _ts(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, 0, tzinfo=UTC)


def fill_warehouse(url: str, periods: tuple[str, ...] = PERIODS) -> Truth:
    """Fill a migrated, empty warehouse; return the independently computed truth."""
    households = build_households()
    truth = Truth()
    truth.households = len(households)
    truth.persons = sum(len(h.members) for h in households)
    truth.households_by_kec = Counter(h.kec for h in households)
    truth.niks = [m.nik for h in households for m in h.members] + [h.no_kk for h in households]
    now = datetime(2026, 11, 9, tzinfo=UTC)
    with session_scope(url) as s:
        snap = RegistrySnapshot(snapshot_date=date(2026, 6, 30), source_uri="file:///fixture/registry/2026-06-30",
                                sha256="0" * 64, households=len(households), persons=truth.persons, loaded_at=now,
                                loaded_by="fixture")
        s.add(snap)
        s.flush()
        truth.snapshot_id = snap.snapshot_id
        for hh in households:
            s.add(RegistryHousehold(snapshot_id=snap.snapshot_id, id_keluarga=hh.id_keluarga, no_kk=hh.no_kk,
                                    kode_kelurahan=hh.kel, kode_kecamatan=hh.kec, alamat=f"Jl. Contoh No. {hh.id_keluarga[-2:]}",
                                    rt="001", rw="002", desil=hh.desil, status_kepemilikan_rumah="milik_sendiri",
                                    rumah_tidak_layak=hh.desil <= 2, sumber_air_layak=True, jamban_sendiri=True))
            for m in hh.members:
                s.add(RegistryPerson(snapshot_id=snap.snapshot_id, id_art=m.id_art, id_keluarga=hh.id_keluarga,
                                     nik=m.nik, no_kk=hh.no_kk, nama=m.nama, jenis_kelamin=m.sex, tanggal_lahir=m.born,
                                     hubungan_keluarga=m.role, alamat="Jl. Contoh", rt="001", rw="002",
                                     kode_kelurahan=hh.kel, pekerjaan_sektor=m.sector, jenjang_sekolah=m.jenjang,
                                     disabilitas_berat=False, hamil=False))
        s.flush()

        previous: list[dict] = []
        for period in periods:
            p = Period.parse(period)
            decisions = decide(households, period)
            for d in decisions:
                s.add(EligibilityDecision(rule_set_version="fixture", snapshot_id=snap.snapshot_id, **d))
            truth.extreme_poor[period] = sum(1 for d in decisions if d["program"] == "miskin_ekstrem" and d["eligible"])
            truth.extreme_poor_by_kec[period] = Counter(
                d["kode_kecamatan"] for d in decisions if d["program"] == "miskin_ekstrem" and d["eligible"]
            )
            truth.graduation[period] = sum(1 for d in decisions if d["program"] == "kandidat_graduasi_pkh")
            targets = targeting(households, decisions, period)
            tally: dict = defaultdict(lambda: [0, 0])
            for t in targets:
                s.add(TargetingResult(**t))
                tally[(t["program"], t["category"])][0] += 1
                tally[(t["program"], t["category"])][1] += t["rupiah"]
            if previous:
                ch = changes(previous, decisions, period)
                for c in ch:
                    s.add(EligibilityChange(**c))
                truth.changes[period] = Counter((c["program"], c["change"]) for c in ch)
            else:
                truth.changes[period] = Counter()
            previous = decisions

            # submissions: batches, findings, expected submissions
            last = period == periods[-1]
            due_month = p.next()
            batches: dict[str, SubmissionBatch] = {}
            for opd, stype in OPD_TYPES.items():
                deadline = date(due_month.year, due_month.month, DEADLINES.get(opd, 5))
                missing = last and opd == "koperasi"
                received = None if missing else _ts(date(due_month.year, due_month.month, 8 if opd == "disdik" and last else 3))
                s.add(ExpectedSubmission(period=period, opd_code=opd, submission_type=stype, required=True,
                                         state="missing" if missing else "received", file_count=0 if missing else 1,
                                         first_received_at=received, deadline=deadline, discovered_at=now))
                if missing:
                    continue
                total = 40 + len(opd)
                quarantined = 3 if opd == "disnaker" and last else 0
                b = SubmissionBatch(period=period, opd_code=opd, submission_type=stype, status="accepted",
                                    is_current=True, files=[{"name": f"{opd}_{period}.xlsx"}],
                                    sha256=f"{opd}{period}".ljust(64, "0"), received_at=received, loaded_at=now,
                                    rows_total=total, rows_accepted=total - quarantined, rows_quarantined=quarantined,
                                    rows_warning=1 if opd == "disnaker" and last else 0)
                s.add(b)
                batches[opd] = b
                if last and opd == "dinkes":  # a corrected file that was rejected: the accepted batch stays current
                    rej = SubmissionBatch(period=period, opd_code=opd, submission_type=stype, status="rejected",
                                          is_current=False, files=[{"name": "dinkes_revisi.xlsx"}],
                                          sha256="rejected".ljust(64, "0"),
                                          received_at=_ts(date(due_month.year, due_month.month, 6)), loaded_at=now,
                                          rows_total=0, rows_accepted=0, rows_quarantined=0, rows_warning=0,
                                          rejection_reason="Kolom wajib 'nik' tidak ditemukan di berkas.")
                    s.add(rej)
                    batches["dinkes_rejected"] = rej
            s.flush()
            if last:
                nik = households[1].members[0].nik
                disnaker = batches["disnaker"]
                for row, col, check, sev, msg, val in [
                    (7, "nik", "nik_format", "error", "NIK harus 16 digit angka.", nik[:15]),
                    (9, "nik", "nik_registry", "error", "NIK tidak cocok dengan tanggal lahir.", nik),
                    (12, "tanggal_lahir", "date_range", "error", "Tanggal lahir setelah akhir periode.", "2027-01-01"),
                    (15, "nama", "formula_text", "warning", "Teks diawali '=' disimpan sebagai teks.", "=HYPERLINK(1)"),
                    (None, None, "title_rows", "warning", "Dua baris judul di atas tabel dilewati.", None),
                ]:
                    s.add(Finding(batch_id=disnaker.batch_id, period=period, opd_code="disnaker",
                                  submission_type="disnaker_bpjstk", source_file="disnaker_2026-10.xlsx", sheet="Data",
                                  row_number=row, column=col, check=check, severity=sev, message=msg, value=val))
                rej = batches["dinkes_rejected"]
                s.add(Finding(batch_id=rej.batch_id, period=period, opd_code="dinkes", submission_type="dinkes_ibu_hamil",
                              source_file="dinkes_revisi.xlsx", sheet=None, row_number=None, column="nik",
                              check="required_column", severity="critical",
                              message="Kolom wajib 'nik' tidak ditemukan di berkas.", value=None))
                # staged rows for review items (Disnaker) and kelurahan proposals
                staged = []
                for n, m in enumerate(households[0 + 8].members[:2] + households[16].members[:2]):
                    r = StagedRow(batch_id=disnaker.batch_id, period=period, opd_code="disnaker",
                                  submission_type="disnaker_bpjstk", source_file="disnaker_2026-10.xlsx", sheet="Data",
                                  row_number=20 + n, nik=m.nik, nama=m.nama, jenis_kelamin=m.sex,
                                  tanggal_lahir=m.born, kode_kelurahan=households[8].kel if n < 2 else households[16].kel,
                                  data={"nik": m.nik, "nama": m.nama})
                    s.add(r)
                    staged.append((r, m))
                s.flush()
                for n, (r, m) in enumerate(staged[:3]):
                    s.add(ReviewItem(period=period, row_id=r.row_id, candidate_id_art=m.id_art, match_probability=0.7,
                                     evidence="nama=0.9", fingerprint=f"fp{n}", status="open" if n < 2 else "decided",
                                     created_at=now))
                truth.review_open = 2
                for kel, opd in (("15.71.01.1001", "kel-1571011001"), ("15.71.03.1003", "kel-1571031003")):
                    b = SubmissionBatch(period=period, opd_code=opd, submission_type="kelurahan_usulan",
                                        status="accepted", is_current=True, files=[{"name": "usulan.xlsx"}],
                                        sha256=opd.ljust(64, "0"), received_at=_ts(date(due_month.year, due_month.month, 2)),
                                        loaded_at=now, rows_total=5, rows_accepted=5, rows_quarantined=0, rows_warning=0)
                    s.add(b)
                    s.flush()
                    families = 2 if kel == "15.71.01.1001" else 1
                    for f in range(families):
                        kk = f"1571{kel[6:8]}0101{20 + f:02d}{7000 + f:04d}"
                        for j in range(2 + f):
                            born = date(1985 + j, 3, 4 + f)
                            nik = _nik(kel[:8], born, "L" if j == 0 else "P", 9000 + f * 10 + j + (0 if families == 2 else 50))
                            truth.niks.append(nik)
                            r = StagedRow(batch_id=b.batch_id, period=period, opd_code=opd,
                                          submission_type="kelurahan_usulan", source_file="usulan.xlsx", sheet="Usulan",
                                          row_number=5 + f * 3 + j, nik=nik, no_kk=kk, nama=f"Warga Usulan {f}{j}",
                                          jenis_kelamin="L" if j == 0 else "P", tanggal_lahir=born, kode_kelurahan=kel,
                                          data={"alasan_usulan": "kehilangan pekerjaan", "alamat": "Jl. Usulan"})
                            s.add(r)
                            s.flush()
                            s.add(HouseholdLink(period=period, row_id=r.row_id, snapshot_id=snap.snapshot_id,
                                                id_keluarga=None, match_status="new" if f == 0 else "duplicate",
                                                via="no_kk", household_key=f"HK{kk}",
                                                duplicate_of=households[0].id_keluarga if f else None))
                            truth.proposal_persons += 1
                        truth.niks.append(kk)
                        truth.proposal_households += 1
                # a PKH recipient Dinas Sosial reported who is not in the registry (inclusion, tidak_ditemukan)
                r = StagedRow(batch_id=batches["dinsos"].batch_id, period=period, opd_code="dinsos",
                              submission_type="dinsos_kpm", source_file="dinsos_2026-10.xlsx", sheet="KPM",
                              row_number=44, nik="1571094101900001", no_kk="1571090101200099", nama="Penerima Tak Dikenal",
                              kode_kelurahan="15.71.09.1001", data={"program": "PKH"})
                s.add(r)
                s.flush()
                truth.niks += ["1571094101900001", "1571090101200099"]
                s.add(TargetingResult(period=period, program="pkh", id_keluarga=None, id_art=None, row_id=r.row_id,
                                      kode_kelurahan=None, kode_kecamatan=None, eligible=False, receiving=True,
                                      category="inclusion", rupiah=1_800_000, reason="tidak_ditemukan"))
                tally[("pkh", "inclusion")][0] += 1
                tally[("pkh", "inclusion")][1] += 1_800_000
            truth.targeting[period] = {k: tuple(v) for k, v in tally.items()}
    return truth


def change_targeting(url: str, period: str, kelurahan: str = "15.71.08.1001") -> None:
    """A reload that fixes one exclusion error in one kelurahan (Jelutung by default): the household now receives."""
    with session_scope(url) as s:
        target = s.scalars(
            select(TargetingResult)
            .where(TargetingResult.period == period, TargetingResult.kode_kelurahan == kelurahan,
                   TargetingResult.category == "exclusion")
            .order_by(TargetingResult.targeting_id)
            .limit(1)
        ).one()
        s.execute(update(TargetingResult).where(TargetingResult.targeting_id == target.targeting_id)
                  .values(receiving=True, category="tepat"))
