-- Registry households and persons per kelurahan in the snapshot in force for the period; households without desil
-- (to propose for DTSEN ranking).
-- Parameters: :snapshot_id
WITH hh AS (
    SELECT h.kode_kelurahan, COUNT(*) AS households,
           SUM(CASE WHEN h.desil = 1 THEN 1 ELSE 0 END) AS desil1_households,
           SUM(CASE WHEN h.desil IS NULL THEN 1 ELSE 0 END) AS no_desil_households
    FROM registry_household h
    WHERE h.snapshot_id = :snapshot_id
    GROUP BY h.kode_kelurahan
),
pp AS (
    SELECT p.kode_kelurahan, COUNT(*) AS persons
    FROM registry_person p
    WHERE p.snapshot_id = :snapshot_id
    GROUP BY p.kode_kelurahan
)
SELECT hh.kode_kelurahan, hh.households, hh.desil1_households, hh.no_desil_households, COALESCE(pp.persons, 0) AS persons
FROM hh
LEFT JOIN pp ON pp.kode_kelurahan = hh.kode_kelurahan
