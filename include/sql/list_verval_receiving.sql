-- Registry families receiving a program in a period (from the OPDs' recipient data, as targeting measured it):
-- a verval `tidak_layak` / `pindah` / `meninggal` on one of them goes onto the usul nonaktif list.
-- Parameters: :period
SELECT DISTINCT t.id_keluarga, t.program
FROM targeting_result t
WHERE t.period = :period AND t.receiving = TRUE AND t.id_keluarga IS NOT NULL
