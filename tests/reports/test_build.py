"""Built reports on disk: one per recipient scope and per OPD that sent, e-mail-safe HTML, nothing personal on disk,
stable content hashes, and the city summary rendered by headless Chromium to a PNG that is not blank."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess

import openpyxl
import pytest

from .conftest import PERIOD, settings_for

SIXTEEN = re.compile(r"(?<!\d)\d{16}(?!\d)")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def test_one_report_per_scope_and_opd(built, config):
    manifest = json.loads((built.reports_dir / PERIOD / "manifest.json").read_text())
    keys = [r["report"] for r in manifest["reports"]]
    expected_scopes = {"kota"} | {r.scope for r in config.recipients.recipients if r.scope != "kota"}
    assert set(keys) - {k for k in keys if k.startswith("opd:")} == expected_scopes
    # feedback for every OPD with contacts that sent something (Koperasi sent nothing this month)
    assert {k for k in keys if k.startswith("opd:")} == {
        f"opd:{o.code}" for o in config.opds.opds if o.contacts and o.code != "koperasi"
    } | {"opd:kel-1571011001", "opd:kel-1571031003"}  # kelurahan senders: own contact / kecamatan operator
    kota = next(r for r in manifest["reports"] if r["report"] == "kota")
    assert len(kota["recipients"]) == len(config.recipients.with_scope("kota"))
    assert kota["content_hash_pii"] and kota["content_hash_pii"] != kota["content_hash"]
    assert {i["key"] for i in kota["images"]} == {"targeting", "trend", "extreme_by_area", "scorecard"}
    # descriptors for XCom: small, no personal data
    assert [d["report"] for d in built.descriptors] == keys
    assert all(set(d) == {"report", "kind", "recipients", "content_hash", "content_hash_pii"} for d in built.descriptors)


def test_html_is_email_safe(built):
    manifest = json.loads((built.reports_dir / PERIOD / "manifest.json").read_text())
    for entry in manifest["reports"]:
        folder = built.reports_dir / PERIOD / entry["dir"]
        html = (folder / "email.html").read_text()
        lowered = html.lower()
        assert "<script" not in lowered and "<link" not in lowered and "<style" not in lowered
        assert not re.search(r"""src\s*=\s*["']?(https?:|//)""", lowered)
        assert "url(" not in lowered  # no CSS background images
        assert 'style="' in html  # css inlined
        cids = set(re.findall(r'src="cid:([^"]+)"', html))
        assert cids == {i["cid"] for i in entry["images"]}
        archive = (folder / "laporan.html").read_text()
        for src in re.findall(r'<img[^>]+src="([^"]+)"', archive):
            assert (folder / src).is_file(), src
        assert "{{" not in html and "{%" not in html


def test_nothing_personal_on_disk(built):
    """Bodies, archive HTML, data.json and the XLSX saved under var/reports hold no full NIK or No KK."""
    niks = set(built.truth.niks)
    files = [p for p in (built.reports_dir / PERIOD).rglob("*") if p.is_file()]
    assert files
    for path in files:
        if path.suffix == ".png":
            continue
        if path.suffix == ".xlsx":
            wb = openpyxl.load_workbook(io.BytesIO(path.read_bytes()))
            text = "\n".join(str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row
                             if c.value is not None)
        else:
            text = path.read_text()
        assert not SIXTEEN.search(text), path
        assert not any(n in text for n in niks), path


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def test_city_summary_renders_in_chromium(built, tmp_path):
    """Headless Chromium draws the archived city summary; the screenshot has text, tables and charts."""
    from PIL import Image

    browser = _chromium()
    if browser is None:
        if IN_CI:
            pytest.fail("chromium tidak ada (CI memasangnya lewat .ci/run)")
        pytest.skip("chromium tidak terpasang (apt-get install -y chromium)")
    page = built.reports_dir / PERIOD / "kota" / "laporan.html"
    shot = tmp_path / "kota.png"
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
           f"--user-data-dir={tmp_path / 'profile'}", "--window-size=700,3600", f"--screenshot={shot}",
           page.as_uri()]
    subprocess.run(cmd, check=True, timeout=90, capture_output=True)
    import numpy as np

    image = Image.open(shot).convert("RGB")
    assert image.size == (700, 3600)
    px = np.asarray(image, dtype=np.int16)
    non_white = (px < 235).any(axis=2).mean()
    assert non_white > 0.10, f"screenshot is (nearly) blank ({non_white:.1%} non-white)"
    colours = len(np.unique((px[..., 0].astype(np.int32) << 16) | (px[..., 1] << 8) | px[..., 2]))
    assert colours > 200, f"too few colours ({colours}): text and charts not drawn"

    def count_near(target, tol=40) -> int:
        return int((np.abs(px - np.array(target)) <= tol).all(axis=2).sum())

    assert count_near((15, 118, 110)) > 5000  # the teal banner and the extreme-poor bars
    assert count_near((217, 119, 6)) > 300, "targeting chart not drawn (exclusion-error bars)"
    assert count_near((124, 58, 237)) > 300, "targeting chart not drawn (inclusion-error bars)"


def test_build_before_any_data_does_not_crash(sqlite_warehouse, tmp_path):
    """A month with no submissions, links or decisions yet still gives (empty) summaries and no OPD feedback."""
    from tkpk.reports import build_reports

    out = build_reports(settings_for(sqlite_warehouse, tmp_path / "reports", tmp_path / "outbox"), PERIOD)
    assert out and not [d for d in out if d["kind"] == "opd"]
    data = json.loads((tmp_path / "reports" / PERIOD / "kota" / "data.json").read_text())
    assert data["extreme_poor"]["households"] == 0 and data["trend"] == [] and data["has_previous"] is False
    assert {r["status"] for r in data["scorecard"] if r["opd"] != "kelurahan"} == {"belum_mengirim"}
