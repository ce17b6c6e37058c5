-- Reference areas: every kelurahan of Kota Jambi with its kecamatan (names for tables and charts).
-- Used by: tkpk.reports.figures (all summaries). Parameters: none.
SELECT kl.kode_kelurahan, kl.nama AS kelurahan, kc.kode_kecamatan, kc.nama AS kecamatan
FROM kelurahan kl
JOIN kecamatan kc ON kc.kode_kecamatan = kl.kode_kecamatan
ORDER BY kl.kode_kelurahan
