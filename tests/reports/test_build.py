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
    assert {i["key"] for i in kota["images"]} == {"targeting", "trend", "extreme_by_area", "scorecard",
                                                  "map_extreme", "map_exclusion"}  # the maps: issue #12
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
           f"--user-data-dir={tmp_path / 'profile'}", "--window-size=700,7200", f"--screenshot={shot}",
           page.as_uri()]
    subprocess.run(cmd, check=True, timeout=90, capture_output=True)
    import numpy as np

    image = Image.open(shot).convert("RGB")
    assert image.size == (700, 7200)
    px = np.asarray(image, dtype=np.int16)
    # the page is shorter than the window (the maps and the budget section made it longer than the old 3600 px):
    # judge the part down to the page's last line
    # and only the 600 px page column (the grey margins either side are no content)
    page_rows = np.flatnonzero((px < 235).any(axis=(1, 2)))
    px = px[: page_rows.max() + 1, 50:650]
    non_white = (px < 235).any(axis=2).mean()
    assert non_white > 0.10, f"screenshot is (nearly) blank ({non_white:.1%} non-white)"
    colours = len(np.unique((px[..., 0].astype(np.int32) << 16) | (px[..., 1] << 8) | px[..., 2]))
    assert colours > 200, f"too few colours ({colours}): text and charts not drawn"

    def count_near(target, tol=40) -> int:
        return int((np.abs(px - np.array(target)) <= tol).all(axis=2).sum())

    assert count_near((15, 118, 110)) > 5000  # the teal banner and the extreme-poor bars
    assert count_near((217, 119, 6)) > 300, "targeting chart not drawn (exclusion-error bars)"
    assert count_near((124, 58, 237)) > 300, "targeting chart not drawn (inclusion-error bars)"


@pytest.mark.parametrize("report", ["kota", "kecamatan-15.71.01"])
def test_summary_shows_map_budget_and_extreme_poor_sections_in_chromium(built, tmp_path, report):
    """Headless Chromium (Playwright driving the system chromium) lays out the archived summary: the extreme-poor
    section, the budget section and the choropleth maps are on the page, inside the 600 px page, and the maps are
    decoded images whose pixels carry the map colours."""
    from PIL import Image

    browser_path = _chromium()
    if browser_path is None:
        if IN_CI:
            pytest.fail("chromium tidak ada (CI memasangnya lewat .ci/run)")
        pytest.skip("chromium tidak terpasang (apt-get install -y chromium)")
    import numpy as np
    from playwright.sync_api import sync_playwright

    page_file = built.reports_dir / PERIOD / report / "laporan.html"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=browser_path, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 700, "height": 1200})
            page.goto(page_file.as_uri())
            for heading in ("Keluarga miskin ekstrem", "Anggaran"):
                h2 = page.locator("h2", has_text=heading).first
                assert h2.is_visible(), heading
                box = h2.bounding_box()
                assert box and box["x"] + box["width"] <= 700, heading
            assert page.get_by_text("Mengurangi beban pengeluaran").first.is_visible()
            assert page.get_by_text("Perkiraan setahun").first.is_visible()
            table = page.locator("table.page").first.bounding_box()
            assert table["width"] <= 601, f"page wider than 600 px: {table['width']}"
            maps = page.locator("img[alt^='Peta']")
            assert maps.count() >= 1
            for i in range(maps.count()):
                img = maps.nth(i)
                img.scroll_into_view_if_needed()
                assert img.evaluate("i => i.complete && i.naturalWidth > 0"), img.get_attribute("alt")
                shot = tmp_path / f"map{i}.png"
                img.screenshot(path=str(shot))
                px = np.asarray(Image.open(shot).convert("RGB"), dtype=np.int16)
                coloured = (np.abs(px - px.mean(axis=2, keepdims=True)) > 25).any(axis=2).mean()
                assert coloured > 0.02, f"map {i} has no shaded kelurahan ({coloured:.1%})"
        finally:
            browser.close()


def test_build_before_any_data_does_not_crash(sqlite_warehouse, tmp_path):
    """A month with no submissions, links or decisions yet still gives (empty) summaries and no OPD feedback."""
    from tkpk.reports import build_reports

    out = build_reports(settings_for(sqlite_warehouse, tmp_path / "reports", tmp_path / "outbox"), PERIOD)
    assert out and not [d for d in out if d["kind"] == "opd"]
    data = json.loads((tmp_path / "reports" / PERIOD / "kota" / "data.json").read_text())
    assert data["extreme_poor"]["households"] == 0 and data["trend"] == [] and data["has_previous"] is False
    assert {r["status"] for r in data["scorecard"] if r["opd"] != "kelurahan"} == {"belum_mengirim"}
