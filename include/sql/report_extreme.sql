-- The extreme-poor section per kelurahan: extreme-poor households (eligible for :extreme_program) in the snapshot,
-- their persons (jiwa), and those whose registry record says no safe water source or no own latrine.
-- Parameters: :period, :snapshot_id, :extreme_program
WITH ext AS (
    SELECT e.id_keluarga
    FROM eligibility_decision e
    WHERE e.period = :period AND e.program = :extreme_program AND e.eligible = TRUE
),
pp AS (
    SELECT p.id_keluarga, COUNT(*) AS persons
    FROM registry_person p
    WHERE p.snapshot_id = :snapshot_id AND p.id_keluarga IN (SELECT id_keluarga FROM ext)
    GROUP BY p.id_keluarga
)
SELECT h.kode_kelurahan, COUNT(*) AS households, SUM(COALESCE(pp.persons, 0)) AS persons,
       SUM(CASE WHEN h.sumber_air_layak = FALSE THEN 1 ELSE 0 END) AS no_safe_water,
       SUM(CASE WHEN h.jamban_sendiri = FALSE THEN 1 ELSE 0 END) AS no_latrine
FROM registry_household h
LEFT JOIN pp ON pp.id_keluarga = h.id_keluarga
WHERE h.snapshot_id = :snapshot_id AND h.id_keluarga IN (SELECT id_keluarga FROM ext)
GROUP BY h.kode_kelurahan
