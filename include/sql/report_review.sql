-- Open review-queue items (uncertain matches waiting for a steward) per kelurahan of the submitted row.
-- Parameters: :period
SELECT s.kode_kelurahan, COUNT(*) AS open_items
FROM review_item r
LEFT JOIN staged_row s ON s.row_id = r.row_id
WHERE r.period = :period AND r.status = 'open'
GROUP BY s.kode_kelurahan
