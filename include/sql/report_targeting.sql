-- Targeting per period, kelurahan, program and category (tepat | exclusion | inclusion) with the rupiah involved.
-- A recipient not found in the registry has no registry kelurahan: the kelurahan of the submitted row stands in,
-- and when there is none the row still counts for the city (kode_kelurahan NULL).
-- Parameters: :from_period, :to_period
SELECT x.period, x.kode_kelurahan, x.program, x.category,
       COUNT(*) AS units,
       SUM(x.rupiah) AS rupiah,
       SUM(CASE WHEN x.reason LIKE '%tidak_ditemukan%' THEN 1 ELSE 0 END) AS not_found
FROM (
    SELECT t.period, COALESCE(t.kode_kelurahan, s.kode_kelurahan) AS kode_kelurahan, t.program, t.category,
           COALESCE(t.rupiah, 0) AS rupiah, t.reason
    FROM targeting_result t
    LEFT JOIN staged_row s ON s.row_id = t.row_id
    WHERE t.period BETWEEN :from_period AND :to_period
) x
GROUP BY x.period, x.kode_kelurahan, x.program, x.category
