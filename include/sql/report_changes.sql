-- Eligibility changes since the previous month per kelurahan, program, direction and the reason now in force.
-- by_rule: 1 when the change comes from a new rule set (reason_changed = perubahan_aturan), not from the family.
-- Parameters: :period
SELECT c.kode_kelurahan, c.program, c."change" AS change_kind,
       COALESCE(c.reasons_after, '') AS reasons_after,
       CASE WHEN c.reason_changed = 'perubahan_aturan' THEN 1 ELSE 0 END AS by_rule, COUNT(*) AS units
FROM eligibility_change c
WHERE c.period = :period
GROUP BY c.kode_kelurahan, c.program, c."change", COALESCE(c.reasons_after, ''),
         CASE WHEN c.reason_changed = 'perubahan_aturan' THEN 1 ELSE 0 END
