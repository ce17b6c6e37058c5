-- Eligible units and their yearly benefit per period, kelurahan and program (trend window included).
-- waiting_units: persons left out by a quota (reason kuota_penuh), the waiting list.
-- Parameters: :from_period, :to_period ('YYYY-MM', inclusive)
SELECT d.period, d.kode_kelurahan, d.program,
       SUM(CASE WHEN d.eligible = TRUE THEN 1 ELSE 0 END) AS eligible_units,
       SUM(CASE WHEN d.eligible = TRUE THEN d.benefit_rupiah ELSE 0 END) AS benefit_rupiah,
       SUM(CASE WHEN d.eligible = FALSE AND d.reasons LIKE '%kuota_penuh%' THEN 1 ELSE 0 END) AS waiting_units
FROM eligibility_decision d
WHERE d.period BETWEEN :from_period AND :to_period
GROUP BY d.period, d.kode_kelurahan, d.program
