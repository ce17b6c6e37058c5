"""Field verification (verval) with photo evidence: the `kelurahan_verval` submission type's own checks.

A kelurahan (or Dinas Sosial, city-wide) visits the households of a by-name list and sends back, in the sub-folder
`verval/` of its landing folder, the filled list plus one photo of each house (loose or in one zip). The sheet goes
through the ordinary ingest checks; this package adds the photo checks (`photos`: decode a thumbnail, EXIF GPS and
date, perceptual hash; `geo`: distance to the kelurahan polygon; `checks`: the findings per row and the row status
`lengkap` / `perlu_perbaikan`; `folder`: what is in the folder), used alike by `tkpk verval check` and the monthly
load. No Airflow here.
"""

CHECKS = ("foto_tidak_ada", "foto_rusak", "foto_tanpa_gps", "foto_di_luar_kelurahan", "foto_tanggal_tidak_sesuai",
          "foto_dipakai_ulang")
LENGKAP = "lengkap"
PERLU_PERBAIKAN = "perlu_perbaikan"
