-- By-name PKH graduation candidates (PKH aktif in the latest Dinas Sosial batch, no longer eligible for PKH).
-- PERSONAL DATA: pii recipients only, attachment only.
-- Parameters: :period, :snapshot_id, :program, :kecamatan ('' = all), :kelurahan ('' = all)
SELECT d.kode_kecamatan, d.kode_kelurahan, d.id_keluarga, d.reasons, h.no_kk, h.desil, h.alamat, h.rt, h.rw,
       k.nik, k.nama
FROM eligibility_decision d
LEFT JOIN registry_household h ON h.snapshot_id = :snapshot_id AND h.id_keluarga = d.id_keluarga
LEFT JOIN registry_person k
  ON k.snapshot_id = :snapshot_id AND k.id_keluarga = d.id_keluarga AND k.hubungan_keluarga = 'kepala_keluarga'
WHERE d.period = :period AND d.program = :program AND d.eligible = TRUE
  AND (:kecamatan = '' OR d.kode_kecamatan = :kecamatan)
  AND (:kelurahan = '' OR d.kode_kelurahan = :kelurahan)
ORDER BY d.kode_kelurahan, d.id_keluarga
