-- By-name follow-up list: exclusion errors (eligible, not receiving) in a scope, with who and where.
-- PERSONAL DATA: only for recipients with pii: true, only as an attachment.
-- Parameters: :period, :snapshot_id, :kecamatan ('' = all), :kelurahan ('' = all)
SELECT t.program, t.kode_kecamatan, t.kode_kelurahan, t.id_keluarga, t.id_art, t.rupiah, t.reason,
       h.no_kk, h.desil, h.alamat, h.rt, h.rw,
       COALESCE(p.nik, k.nik) AS nik, COALESCE(p.nama, k.nama) AS nama
FROM targeting_result t
LEFT JOIN registry_household h ON h.snapshot_id = :snapshot_id AND h.id_keluarga = t.id_keluarga
LEFT JOIN registry_person p ON p.snapshot_id = :snapshot_id AND p.id_art = t.id_art
LEFT JOIN registry_person k
  ON k.snapshot_id = :snapshot_id AND k.id_keluarga = t.id_keluarga AND k.hubungan_keluarga = 'kepala_keluarga'
 AND (t.id_art IS NULL OR t.id_art = '')
WHERE t.period = :period AND t.category = 'exclusion'
  AND (:kecamatan = '' OR t.kode_kecamatan = :kecamatan)
  AND (:kelurahan = '' OR t.kode_kelurahan = :kelurahan)
ORDER BY t.kode_kelurahan, t.program, t.id_keluarga, t.id_art
