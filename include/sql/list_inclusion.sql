-- By-name inclusion list: receiving but not eligible in a scope (the input for usul nonaktif in SIKS-NG), with why.
-- A recipient not found in the registry (reason tidak_ditemukan) is named as its OPD row names it.
-- PERSONAL DATA: only for recipients with pii: true, only as an attachment.
-- Parameters: :period, :snapshot_id, :kecamatan ('' = all), :kelurahan ('' = all)
SELECT t.program, COALESCE(t.kode_kecamatan, kl.kode_kecamatan) AS kode_kecamatan,
       COALESCE(t.kode_kelurahan, s.kode_kelurahan) AS kode_kelurahan, t.id_keluarga, t.id_art, t.rupiah, t.reason,
       COALESCE(h.no_kk, s.no_kk) AS no_kk, h.desil, h.alamat, h.rt, h.rw,
       COALESCE(p.nik, k.nik, s.nik) AS nik, COALESCE(p.nama, k.nama, s.nama) AS nama
FROM targeting_result t
LEFT JOIN staged_row s ON s.row_id = t.row_id
LEFT JOIN kelurahan kl ON kl.kode_kelurahan = s.kode_kelurahan
LEFT JOIN registry_household h ON h.snapshot_id = :snapshot_id AND h.id_keluarga = t.id_keluarga
LEFT JOIN registry_person p ON p.snapshot_id = :snapshot_id AND p.id_art = t.id_art
LEFT JOIN registry_person k
  ON k.snapshot_id = :snapshot_id AND k.id_keluarga = t.id_keluarga AND k.hubungan_keluarga = 'kepala_keluarga'
 AND (t.id_art IS NULL OR t.id_art = '')
WHERE t.period = :period AND t.category = 'inclusion'
  AND (:kecamatan = '' OR COALESCE(t.kode_kecamatan, kl.kode_kecamatan) = :kecamatan)
  AND (:kelurahan = '' OR COALESCE(t.kode_kelurahan, s.kode_kelurahan) = :kelurahan)
ORDER BY COALESCE(t.kode_kelurahan, s.kode_kelurahan), t.program, t.id_keluarga, t.id_art, t.row_id
