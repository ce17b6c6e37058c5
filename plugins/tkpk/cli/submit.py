"""`tkpk submit FILE --opd CODE --period YYYY-MM [--type TYPE] [--replace | --add] [--jenis-lain]`: for stewards who
receive a file by e-mail or WhatsApp. The file is validated exactly as the monthly load would; when it would be
accepted it is copied into the landing zone, `{landing}/{period}/{opd}/`, under a safe name (the type code in front
when the OPD sends several types, so discovery assigns it). A rejected file is not placed (exit 2).

All of an OPD's files of one type form one batch (Dinsos may send PKH and BPNT as two files), so a second file is
never placed silently beside the first: when it shares most of its rows with a file already there, or has its
name, `submit` stops and asks for `--replace` (the OPD's earlier files of that type move to the folder's
`_diganti/` sub-folder, recorded in the audit log) or `--add` (the file joins the batch; a row found in two files is
loaded once). `--replace` also works when the file itself is already there, and a second `--replace` changes
nothing. A file whose columns fit another submission type better than the OPD's is refused ("berkas ini tampaknya
data ...") unless `--jenis-lain` says it really is meant for this OPD.

Exit codes: 0 placed (or already there), 1 usage error or a decision needed (--replace / --add), 2 rejected.
"""

from __future__ import annotations

import getpass
import hashlib
from datetime import UTC, datetime
from pathlib import Path

from tkpk.cli.options import add_period

OVERLAP_SHARE = 0.5  # a new file sharing more than this share of its rows with a placed file is "the same data"


def register(sub) -> None:
    from tkpk.cli.validate import strict_usage

    p = sub.add_parser(
        "submit", help="periksa berkas lalu taruh di landing zone (untuk steward)",
        description="Memeriksa berkas seperti pemuatan bulanan lalu menaruhnya di folder OPD di landing zone. "
                    "Kode keluar: 0 ditaruh (atau sudah ada), 1 salah pemakaian atau perlu --replace/--add, "
                    "2 berkas ditolak.")
    p.add_argument("file", metavar="BERKAS", help="berkas .xlsx/.xls/.ods/.csv dari OPD")
    p.add_argument("--opd", required=True, metavar="KODE", help="kode OPD, mis. disnaker atau kel-1571011001")
    add_period(p)
    p.add_argument("--type", dest="type_code", default=None, metavar="JENIS",
                   help="jenis kiriman (wajib bila OPD mengirim lebih dari satu jenis)")
    how = p.add_mutually_exclusive_group()
    how.add_argument("--replace", action="store_true",
                     help="ganti: pindahkan berkas lama OPD untuk jenis ini ke _diganti/ lalu taruh berkas baru")
    how.add_argument("--add", action="store_true",
                     help="tambah: taruh berkas di samping berkas lama; semuanya dimuat sebagai satu batch")
    p.add_argument("--jenis-lain", dest="force_type", action="store_true",
                   help="terima berkas walau kolomnya lebih cocok dengan jenis kiriman lain")
    p.add_argument("--by", default=None, metavar="NAMA",
                   help="nama petugas untuk jejak audit (bawaan: nama login)")
    strict_usage(p)
    p.set_defaults(func=run)


def target_name(original: str, type_code: str, opd_types: tuple[str, ...]) -> str:
    from tkpk.config.submissions import header_key
    from tkpk.ingest.load import safe_name

    name = safe_name(original)
    if len(opd_types) > 1 and header_key(type_code) not in header_key(name):
        name = f"{type_code}_{name}"
    return name


def _overlap(new_result, folder, entries, stype, period, settings, config) -> list[str]:
    """Why each placed file clashes with the new one: it shares more than OVERLAP_SHARE of the new file's accepted
    rows, or it is itself rejected (left beside a corrected file it would reject the whole batch again)."""
    from tkpk.ingest.sniff import row_keys
    from tkpk.ingest.validate import validate_file

    columns = [c.name for c in stype.columns]
    mine = set(row_keys(new_result.records, columns).tolist())
    out = []
    for entry in entries:
        if not entry.supported:
            continue
        old = validate_file(folder / entry.name, stype.code, period, settings=settings, config=config)
        if not old.accepted:
            out.append(f"berkas {entry.name} yang sudah ada akan ditolak, sehingga seluruh batch ikut ditolak")
            continue
        shared = len(mine & set(row_keys(old.records, columns).tolist()))
        if mine and shared > OVERLAP_SHARE * len(mine):
            out.append(f"{shared} dari {len(mine)} baris berkas ini sudah ada di {entry.name}")
    return out


def _unique_target(folder, name: str):
    target = folder / name
    if not target.exists():
        return target
    stem, dot, ext = name.rpartition(".")
    k = 2
    while (folder / f"{stem}_{k}.{ext}").exists():
        k += 1
    return folder / f"{stem}_{k}.{ext}"


def run(args) -> int:
    from tkpk.cli import UsageError
    from tkpk.cli.validate import prepare, print_human
    from tkpk.ingest.landing import landing_folder, received_files
    from tkpk.ingest.sniff import better_type
    from tkpk.ingest.validate import validate_file

    settings, config, _ = prepare(None, args.file)
    try:
        opd = config.opds.get(args.opd)
    except KeyError as exc:
        raise UsageError(exc.args[0]) from None
    type_code = args.type_code
    if type_code is None:
        if len(opd.submissions) != 1:
            raise UsageError(f"OPD {opd.code} mengirim beberapa jenis ({', '.join(opd.submissions)}); pilih dengan "
                             "--type.")
        type_code = opd.submissions[0]
    if type_code not in opd.submissions:
        raise UsageError(f"OPD {opd.code} tidak mengirim jenis '{type_code}' (yang dikirim: "
                         f"{', '.join(opd.submissions)}).")
    stype = config.types.get(type_code)
    period = str(args.period)
    data = Path(args.file).read_bytes()

    other = better_type(data, Path(args.file).name, config, type_code)
    if other is not None and not args.force_type:
        print(f"Berkas ini tampaknya data {other.name} ({other.code}), bukan {stype.name} ({stype.code}) yang "
              f"dikirim {opd.name}: kolomnya lebih cocok dengan jenis {other.code}.\n"
              f"Berkas TIDAK ditaruh di landing zone. Periksa apakah berkas dikirim ke OPD yang benar; bila memang "
              f"benar untuk {opd.code}, ulangi dengan --jenis-lain.")
        return 2

    result = validate_file(args.file, stype.code, period, settings=settings, config=config)
    result.file = args.file
    print_human(result, stype)
    if not result.accepted:
        print("\nBerkas TIDAK ditaruh di landing zone.")
        return 2

    folder = landing_folder(settings, period, opd.code)
    folder.mkdir(parents=True, exist_ok=True)
    existing = received_files(settings, period, opd)[type_code]
    digest = hashlib.sha256(data).hexdigest()
    name = target_name(Path(args.file).name, type_code, tuple(opd.submissions))
    same = [e for e in existing if hashlib.sha256((folder / e.name).read_bytes()).hexdigest() == digest]
    others = [e for e in existing if e not in same]
    actor = args.by or getpass.getuser()

    if args.replace:
        if not others:
            if same:
                print(f"\nBerkas ini sudah menjadi satu-satunya berkas {stype.code} di {folder}: {same[0].name}. "
                      "Tidak ada yang diganti.")
                return 0
            target = folder / name
            _place(settings, actor, period, opd.code, type_code, folder, target, data, moved=[])
            print(f"\nBerkas ditaruh di landing zone: {target}\nBelum ada berkas lama untuk jenis ini; tidak ada "
                  "yang diganti.")
            return 0
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        moved = [(e.name, f"_diganti/{stamp}_{e.name}") for e in others]
        target = None if same else _unique_target(folder, name) if name not in {e.name for e in others} \
            else folder / name
        _place(settings, actor, period, opd.code, type_code, folder, target, data, moved=moved)
        print(f"\n{len(moved)} berkas lama dipindahkan ke {folder / '_diganti'}: "
              f"{', '.join(old for old, _ in moved)}.")
        if target is None:
            print(f"Berkas ini sudah ada di landing zone ({same[0].name}) dan kini satu-satunya berkas jenis ini.")
        else:
            print(f"Berkas ditaruh di landing zone: {target}")
        return 0

    if same:
        print(f"\nBerkas yang sama persis sudah ada di landing zone: {folder / same[0].name}. Tidak ditaruh lagi.")
        return 0
    if others and not args.add:
        clash = [e.name for e in others if e.name == name]
        overlap = _overlap(result, folder, [e for e in others if e.name not in clash], stype, period, settings,
                           config)
        if clash or overlap:
            why = [f"berkas bernama sama sudah ada: {n}" for n in clash] + overlap
            raise UsageError(
                f"Folder {opd.code} periode {period} sudah berisi berkas jenis ini ({'; '.join(why)}). Semua berkas "
                f"di folder dimuat sebagai satu batch, jadi berkas ini tidak ditaruh begitu saja. Pilih:\n"
                f"  --replace  berkas ini MENGGANTIKAN berkas lama jenis {type_code} (dipindah ke _diganti/)\n"
                f"  --add      berkas ini DITAMBAHKAN sebagai bagian lain dari kiriman yang sama")
    target = _unique_target(folder, name)
    _place(settings, actor, period, opd.code, type_code, folder, target, data, moved=[])
    print(f"\nBerkas ditaruh di landing zone: {target}")
    if others:
        print(f"Catatan: folder ini juga berisi {len(others)} berkas lain untuk jenis ini "
              f"({', '.join(e.name for e in others)}); semuanya dimuat sebagai satu batch. Baris yang ada di dua "
              "berkas dimuat sekali dan dilaporkan sebagai peringatan.")
    return 0


def _place(settings, actor: str, period: str, opd_code: str, type_code: str, folder, target,
           data: bytes, *, moved: list[tuple[str, str]]) -> None:
    """Move the replaced files and write the new one inside one audit transaction (a failed move records nothing)."""
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from tkpk.cli import UsageError
    from tkpk.warehouse import audit, session_scope

    try:
        with session_scope(settings.database_url) as s:
            audit(s, actor=actor, action="submit_replace" if moved else "submit", period=period, opd_code=opd_code,
                  submission_type=type_code, file=target.name if target else None,
                  replaced=[old for old, _ in moved])
            s.flush()
            if moved:
                (folder / "_diganti").mkdir(exist_ok=True)
            for old, new in moved:
                (folder / old).rename(folder / new)
            if target is not None:
                target.write_bytes(data)
    except (OperationalError, ProgrammingError) as exc:
        raise UsageError("Gudang data belum siap untuk mencatat jejak audit; jalankan dulu `tkpk db upgrade` "
                         f"({type(exc).__name__}).") from None
