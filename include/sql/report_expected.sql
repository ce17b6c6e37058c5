-- What discovery expected for the period: received or missing ("belum mengirim"), deadline, first arrival.
-- Parameters: :period
SELECT e.opd_code, e.submission_type, e.required, e.state, e.file_count, e.first_received_at, e.deadline
FROM expected_submission e
WHERE e.period = :period
