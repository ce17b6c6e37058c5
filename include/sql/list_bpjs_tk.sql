-- By-name BPJS Ketenagakerjaan quota list: the ranked recommendation per kelurahan (within quota and waiting list)
-- and whether Disnaker reports the person as enrolled. PERSONAL DATA: pii recipients only, attachment only.
-- Parameters: :period, :snapshot_id, :program, :kecamatan ('' = all), :kelurahan ('' = all)
SELECT d.kode_kecamatan, d.kode_kelurahan, d."rank" AS quota_rank, d.eligible, d.reasons, d.benefit_rupiah,
       d.id_keluarga, d.id_art, p.nik, p.nama, p.jenis_kelamin, p.tanggal_lahir, h.no_kk, h.desil,
       CASE WHEN d.id_art IN (
           SELECT t.id_art FROM targeting_result t
           WHERE t.period = :period AND t.program = :program AND t.receiving = TRUE AND t.id_art IS NOT NULL
       ) THEN 1 ELSE 0 END AS enrolled
FROM eligibility_decision d
LEFT JOIN registry_person p ON p.snapshot_id = :snapshot_id AND p.id_art = d.id_art
LEFT JOIN registry_household h ON h.snapshot_id = :snapshot_id AND h.id_keluarga = d.id_keluarga
WHERE d.period = :period AND d.program = :program AND d."rank" IS NOT NULL
  AND (:kecamatan = '' OR d.kode_kecamatan = :kecamatan)
  AND (:kelurahan = '' OR d.kode_kelurahan = :kelurahan)
ORDER BY d.kode_kelurahan, d."rank"
