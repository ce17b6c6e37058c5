-- Follow-ups the by-name lists ask for in a period (households with a targeting error: eligible but not receiving,
-- or receiving but not eligible), per kelurahan and the period since which each has been on a list, with how many
-- were visited (a verval row up to the period, matched to the registry family by No KK or by NIK) and how many of
-- those visits are `lengkap`. Aggregates only. Parameters: :period, :snapshot_id
WITH req AS (
  SELECT t.id_keluarga, MIN(t.kode_kelurahan) AS kode_kelurahan, MIN(t.period) AS since
  FROM targeting_result t
  WHERE t.period <= :period AND t.category IN ('exclusion', 'inclusion') AND t.id_keluarga IS NOT NULL
  GROUP BY t.id_keluarga
  HAVING MAX(t.period) = :period
),
visits AS (
  SELECT h.id_keluarga, CASE WHEN v.status = 'lengkap' THEN 1 ELSE 0 END AS lengkap
  FROM verval_row v
  JOIN submission_batch b ON b.batch_id = v.batch_id AND b.is_current = TRUE
  JOIN registry_household h ON h.snapshot_id = :snapshot_id AND h.no_kk = v.no_kk
  WHERE v.period <= :period
  UNION ALL
  SELECT p.id_keluarga, CASE WHEN v.status = 'lengkap' THEN 1 ELSE 0 END AS lengkap
  FROM verval_row v
  JOIN submission_batch b ON b.batch_id = v.batch_id AND b.is_current = TRUE
  JOIN registry_person p ON p.snapshot_id = :snapshot_id AND p.nik = v.nik
  WHERE v.period <= :period
),
visited AS (
  SELECT id_keluarga, MAX(lengkap) AS lengkap FROM visits GROUP BY id_keluarga
)
SELECT r.kode_kelurahan, r.since, COUNT(*) AS households,
       SUM(CASE WHEN x.id_keluarga IS NULL THEN 0 ELSE 1 END) AS visited,
       SUM(CASE WHEN x.lengkap = 1 THEN 1 ELSE 0 END) AS visited_lengkap
FROM req r
LEFT JOIN visited x ON x.id_keluarga = r.id_keluarga
GROUP BY r.kode_kelurahan, r.since
