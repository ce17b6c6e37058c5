-- Eligibility changes since the previous month per kelurahan, program, direction and the reason now in force.
-- Parameters: :period
SELECT c.kode_kelurahan, c.program, c."change" AS change_kind,
       COALESCE(c.reasons_after, '') AS reasons_after, COUNT(*) AS units
FROM eligibility_change c
WHERE c.period = :period
GROUP BY c.kode_kelurahan, c.program, c."change", COALESCE(c.reasons_after, '')
