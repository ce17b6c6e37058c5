"""`tkpk submit FILE --opd CODE --period YYYY-MM [--type TYPE] [--replace]`: for stewards who receive a file by
e-mail or WhatsApp. The file is validated exactly as the monthly load would; when it would be accepted it is copied
into the landing zone, `{landing}/{period}/{opd}/`, under a safe name (the type code in front when the OPD sends
several types, so discovery assigns it). A rejected file is not placed (exit 2).

All files in an OPD's folder form one batch; `--replace` moves the OPD's earlier files of that type into the
folder's `_diganti/` sub-folder first, so a corrected file replaces the old one instead of joining it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from tkpk.cli.options import add_period


def register(sub) -> None:
    from tkpk.cli.validate import strict_usage

    p = sub.add_parser("submit", help="periksa berkas lalu taruh di landing zone (untuk steward)")
    p.add_argument("file", metavar="BERKAS")
    p.add_argument("--opd", required=True, metavar="KODE", help="kode OPD, mis. disnaker atau kel-1571011001")
    add_period(p)
    p.add_argument("--type", dest="type_code", default=None, metavar="JENIS",
                   help="jenis kiriman (wajib bila OPD mengirim lebih dari satu jenis)")
    p.add_argument("--replace", action="store_true",
                   help="pindahkan berkas lama OPD untuk jenis ini ke _diganti/ sebelum menaruh berkas baru")
    strict_usage(p)
    p.set_defaults(func=run)


def target_name(original: str, type_code: str, opd_types: tuple[str, ...]) -> str:
    from tkpk.config.submissions import header_key
    from tkpk.ingest.load import safe_name

    name = safe_name(original)
    if len(opd_types) > 1 and header_key(type_code) not in header_key(name):
        name = f"{type_code}_{name}"
    return name


def run(args) -> int:
    import hashlib

    from tkpk.cli import UsageError
    from tkpk.cli.validate import prepare, print_human
    from tkpk.config import load_config
    from tkpk.ingest.landing import landing_folder, received_files
    from tkpk.ingest.validate import validate_file
    from tkpk.settings import Settings

    settings = Settings.from_env()
    config = load_config(settings.config_dir)
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
    settings, config, stype = prepare(type_code, args.file)
    period = str(args.period)
    result = validate_file(args.file, stype.code, period, settings=settings, config=config)
    result.file = args.file
    print_human(result, stype)
    if not result.accepted:
        print("\nBerkas TIDAK ditaruh di landing zone.")
        return 2

    folder = landing_folder(settings, period, opd.code)
    folder.mkdir(parents=True, exist_ok=True)
    existing = received_files(settings, period, opd)[type_code]
    data = Path(args.file).read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    name = target_name(Path(args.file).name, type_code, tuple(opd.submissions))
    for entry in existing:
        fs_bytes = (folder / entry.name).read_bytes()
        if hashlib.sha256(fs_bytes).hexdigest() == digest:
            print(f"\nBerkas yang sama persis sudah ada di landing zone: {folder / entry.name}")
            return 0
    if args.replace and existing:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        old = folder / "_diganti"
        old.mkdir(parents=True, exist_ok=True)
        for entry in existing:
            (folder / entry.name).rename(old / f"{stamp}_{entry.name}")
        print(f"\n{len(existing)} berkas lama dipindahkan ke {old}.")
        existing = []
    target = folder / name
    taken = {e.name for e in existing}
    if target.exists() or name in taken:
        stem, dot, ext = name.rpartition(".")
        k = 2
        while (folder / f"{stem}_{k}.{ext}").exists():
            k += 1
        target = folder / f"{stem}_{k}.{ext}"
    target.write_bytes(data)
    print(f"\nBerkas ditaruh di landing zone: {target}")
    if existing:
        print(f"Catatan: folder ini sudah berisi {len(existing)} berkas lain untuk jenis ini; semuanya dimuat sebagai "
              "satu batch. Gunakan --replace untuk menggantinya.")
    return 0

