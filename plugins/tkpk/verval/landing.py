"""The monthly load's view of a `verval/` folder in the landing zone: every file becomes an `Item` read through the
landing store's filesystem, each photo is archived (content-addressed, like every raw file) the moment it has been
checked, and its bytes are dropped before the next one is read."""

from __future__ import annotations

import fsspec

from tkpk.ingest.landing import storage_options_for
from tkpk.verval.folder import FolderResult, Item, check_folder


def check_landing(settings, period, opd_code: str, stype, entries: list, results: list, storage_options: dict,
                  archive_options: dict, kelurahan, limits, known) -> tuple[FolderResult, list[dict]]:
    """Check the photos of a verval batch whose sheets are already validated (`results`). Returns the folder result
    and one file record per photo (`name`, `sha256`, `size`, `archive_uri`) for the batch's `files`."""
    from tkpk.ingest.load import archive_file

    fs, _root = fsspec.core.url_to_fs(settings.landing_url, **storage_options_for(settings, storage_options))
    by_name = {r.file: r for r in results}
    items = [Item(name=r.file, size=r.size, open=lambda: None) for r in results]  # validated already
    items += [Item(name=e.name, size=e.size, open=lambda e=e: fs.open(e.path, "rb"), url=e.url) for e in entries]
    archived: dict[str, str] = {}

    def on_photo(shown: str, data: bytes, info) -> None:
        archived[shown] = archive_file(settings, period, opd_code, stype.code, shown.replace("/", "__"),
                                       info.sha256, data, archive_options)

    result = check_folder(items, stype, period.end, validate=lambda item: by_name[item.name], limits=limits,
                          reference_dir=settings.reference_dir, known=known, on_photo=on_photo, kelurahan=kelurahan)
    url_of = {e.name: e.url for e in entries}
    files = []
    for rec in result.photo_files:
        container = rec.get("container")
        meta = {"name": rec["name"], "uri": url_of.get(container or rec["name"]), "size": rec["size"],
                "sha256": rec["sha256"] or None, "photo": True}
        if rec["name"] in archived:
            meta["archive_uri"] = archived[rec["name"]]
        files.append(meta)
    return result, files
