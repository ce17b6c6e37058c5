"""Render the Jinja2 templates in `include/templates/` to e-mail-ready HTML (CSS inlined) and plain text.

HTML templates are autoescaped; the `<style>` block is moved into style attributes with css-inline (Gmail and
Outlook ignore `<style>` in the body), remote stylesheets are never fetched. Number and date filters are the
Indonesian formats of `tkpk.reports.format`.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from tkpk.reports.format import FILTERS

SUBJECT_PREFIX = "[TKPK Kota Jambi]"
REVISION_PREFIX = "[REVISI] "
REVISION_MARKER = "<!--tkpk:revisi-->"
REVISION_BANNER = (
    '<tr><td style="background-color: #fef3c7; color: #92400e; padding: 10px 24px; font-size: 13px; '
    'font-family: Arial, Helvetica, sans-serif;"><strong>REVISI.</strong> Laporan ini menggantikan versi yang '
    "dikirim sebelumnya untuk periode yang sama: data berubah setelah ada kiriman OPD yang diperbaiki atau dimuat "
    "ulang.</td></tr>"
)
REVISION_TEXT = (
    "REVISI: laporan ini menggantikan versi yang dikirim sebelumnya untuk periode yang sama "
    "(data berubah setelah ada kiriman OPD yang diperbaiki atau dimuat ulang).\n\n"
)

LISTS_TOO_LARGE_BANNER = (
    '<tr><td style="background-color: #e0f2fe; color: #075985; padding: 10px 24px; font-size: 13px; '
    'font-family: Arial, Helvetica, sans-serif;"><strong>Daftar nama tidak dilampirkan.</strong> Lampiran daftar nama '
    "({size_mb:.1f} MB) melebihi batas ukuran e-mail server ({limit_mb:.1f} MB). Petugas data TKPK menyerahkannya "
    "lewat jalur aman (perintah <code>tkpk report lists</code>).</td></tr>"
)
LISTS_TOO_LARGE_TEXT = (
    "DAFTAR NAMA TIDAK DILAMPIRKAN: lampiran daftar nama ({size_mb:.1f} MB) melebihi batas ukuran e-mail server "
    "({limit_mb:.1f} MB). Petugas data TKPK menyerahkannya lewat jalur aman (perintah `tkpk report lists`).\n\n"
)


def with_lists_too_large(html: str, text: str, size_mb: float, limit_mb: float) -> tuple[str, str]:
    """The notice that replaces a by-name attachment too large for the mail server (above any REVISI banner's
    place, which `with_revision` fills afterwards)."""
    banner = LISTS_TOO_LARGE_BANNER.format(size_mb=size_mb, limit_mb=limit_mb)
    return (html.replace(REVISION_MARKER, REVISION_MARKER + banner, 1),
            LISTS_TOO_LARGE_TEXT.format(size_mb=size_mb, limit_mb=limit_mb) + text)


@lru_cache(maxsize=4)
def environment(templates_dir: str):
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=FileSystemLoader(templates_dir),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True, default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(FILTERS)
    return env


def render_html(templates_dir: Path, name: str, **context) -> str:
    """Render an HTML template and inline its CSS."""
    import css_inline

    html = environment(str(templates_dir)).get_template(name).render(**context)
    inliner = css_inline.CSSInliner(keep_style_tags=False, keep_link_tags=False, load_remote_stylesheets=False)
    return inliner.inline(html)


def render_text(templates_dir: Path, name: str, **context) -> str:
    text = environment(str(templates_dir)).get_template(name).render(**context)
    lines = [line.rstrip() for line in text.splitlines()]
    return "\n".join(lines).strip() + "\n"


def _change_text(change: dict) -> str:
    from tkpk.reports.format import angka, rupiah

    fmt = rupiah if change["rupiah"] else angka
    return f"{change['label']}: {fmt(change['old'])} → {fmt(change['new'])}"


def with_revision(html: str, text: str, revision: int, changes: list[dict] | None = None) -> tuple[str, str]:
    """The REVISI banner goes in only when the report is a revision of one already sent; it names the headline
    figures that changed since the version the reader got (old -> new, `tkpk.reports.figures.headline_changes`)."""
    if revision <= 0:
        return html.replace(REVISION_MARKER, ""), text
    banner, plain = REVISION_BANNER, REVISION_TEXT
    if changes:
        from html import escape

        items = "".join(f"<li>{escape(_change_text(c))}</li>" for c in changes)
        banner = banner.replace("</td></tr>", '<br><strong>Angka utama yang berubah:</strong>'
                                f'<ul style="margin: 4px 0 0 0; padding-left: 18px;">{items}</ul></td></tr>')
        plain = plain.rstrip("\n") + "\nAngka utama yang berubah:\n" + "".join(
            f"- {_change_text(c)}\n" for c in changes) + "\n"
    elif changes is not None:
        banner = banner.replace("</td></tr>", " Angka utama tidak berubah; rincian atau daftar nama yang berubah.</td></tr>")
        plain = plain.rstrip("\n") + "\nAngka utama tidak berubah; rincian atau daftar nama yang berubah.\n\n"
    return html.replace(REVISION_MARKER, banner), plain + text


def subject(title: str, period_label: str, revision: int = 0) -> str:
    """`[TKPK Kota Jambi] Laporan Bulanan Oktober 2026`, `[REVISI] ` in front of a revision."""
    base = f"{SUBJECT_PREFIX} {title} {period_label}"
    return REVISION_PREFIX + base if revision > 0 else base
