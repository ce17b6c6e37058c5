-- By-name verval results of a period whose house photo has no finding (`lengkap`), with the registry family they
-- belong to (by No KK, else by NIK), its desil and head: the source of the usul nonaktif and usulan DTSEN lists.
-- PERSONAL DATA: pii recipients only, attachment only. Results never change the registry itself.
-- Parameters: :period, :snapshot_id, :kecamatan ('' = all), :kelurahan ('' = all)
SELECT v.kode_kelurahan, kl.kode_kecamatan, v.nik, v.no_kk, v.hasil_verifikasi, v.tanggal_kunjungan, v.petugas,
       v.foto_rumah, v.catatan, v.opd_code, v.source_file, v."row_number" AS excel_row,
       h.id_keluarga, h.desil, h.alamat, h.rt, h.rw,
       COALESCE(pn.nama, kp.nama) AS nama
FROM verval_row v
JOIN submission_batch b ON b.batch_id = v.batch_id AND b.is_current = TRUE
LEFT JOIN kelurahan kl ON kl.kode_kelurahan = v.kode_kelurahan
LEFT JOIN registry_household hk ON hk.snapshot_id = :snapshot_id AND hk.no_kk = v.no_kk
LEFT JOIN registry_person pn ON pn.snapshot_id = :snapshot_id AND pn.nik = v.nik
LEFT JOIN registry_household h
  ON h.snapshot_id = :snapshot_id AND h.id_keluarga = COALESCE(hk.id_keluarga, pn.id_keluarga)
LEFT JOIN registry_person kp
  ON kp.snapshot_id = :snapshot_id AND kp.id_keluarga = h.id_keluarga AND kp.hubungan_keluarga = 'kepala_keluarga'
 AND pn.nama IS NULL
WHERE v.period = :period AND v.status = 'lengkap'
  AND (:kecamatan = '' OR kl.kode_kecamatan = :kecamatan)
  AND (:kelurahan = '' OR v.kode_kelurahan = :kelurahan)
ORDER BY v.kode_kelurahan, v.opd_code, v.source_file, v.sheet, v."row_number"
