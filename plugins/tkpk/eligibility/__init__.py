"""Eligibility and targeting: step 4 of the monthly run (DESIGN.md section 7; rules in include/config/programs.yaml).

Who is eligible for which program at E (the last day of the period), why, with which benefit; who waits for a
quota; what changed since last month; who could graduate from PKH; and how well each program reaches its target
(tepat / exclusion error / inclusion error) by unit, with the rupiah involved.

Modules: `rules` (the pure engine over DataFrames), `sources` (submission rows -> events, recipients, history),
`store` (the warehouse path the DAG calls), `files` (the `tkpk eligibility --registry DIR` path), `bench`.

API for the DAG (each takes `settings: tkpk.settings.Settings` and a period 'YYYY-MM', returns small count dicts):
    derive_events(settings, period)            -> registry_event for the period (replaced)
    eligibility_partitions(settings, period)   -> kecamatan codes of the snapshot (one mapped task each)
    compute_eligibility(settings, period, kecamatan=None)
                                               -> eligibility_decision and targeting of registry units
                                                  for (period[, kecamatan]) (replaced)
    finalize_eligibility(settings, period)     -> eligibility_change, recipients not found, headline counts
    run_period(settings, period)               -> all of the above in order

Reason codes (`reasons`, ';'-separated). An eligible unit lists the conditions it meets; a unit that is not
eligible lists the conditions it fails.
    desil_<n>                          household desil n, inside the program's range
    desil_di_luar_<a>_<b> / desil_di_luar_<a>   desil outside the range a..b (or not equal to a)
    desil_kosong                       the household has no desil
    tidak_ada_anggota_aktif            the household has no active member at E (eligible for nothing)
    meninggal / pindah_keluar          the person is inactive at E (latest Disdukcapil event up to E)
    usia_<a>_<b> / usia_<a>_ke_atas    age in full years at E inside the range (bpjs_tk: usia_18_64; pip: usia_6_21)
    usia_di_luar_<a>_<b>               age outside the range
    tanggal_lahir_kosong               no birth date, so no age
    sektor_<s> / sektor_bukan_<s>      pekerjaan_sektor (bpjs_tk: sektor_informal / sektor_bukan_informal)
    sekolah_<jenjang>                  enrolled at E (sekolah_sd, sekolah_smp, sekolah_sma, sekolah_smk)
    tidak_bersekolah / jenjang_tidak_sesuai   not enrolled / enrolled at a level the program does not cover
    komponen:<code>                    a PKH component kept, once per member (komponen:ibu_hamil, anak_usia_dini,
                                       anak_sd, anak_smp, anak_sma, disabilitas_berat, lansia)
    batas_komponen_<n>                 the household had more than n components; the n highest were kept
    tidak_ada_komponen                 no active member gives a PKH component
    dalam_kuota / kuota_penuh          inside / outside the quota (with `rank`; kuota_penuh = the waiting list)
    rumah_tidak_layak / rumah_layak    the house is / is not unfit (rumah_tidak_layak = Y)
    rumah_milik_sendiri / rumah_bukan_milik_sendiri   ownership (rented, lodging, other are not own)
    rtlh_sudah_selesai_<year>          a Perkim RTLH rehabilitation finished, tahun_anggaran >= year(E) - 9
    pkh_aktif                          (kandidat_graduasi_pkh) PKH aktif in the latest Dinas Sosial batch; followed
                                       by the reasons the household is no longer eligible for pkh
    tidak_ada_di_registri              (changes) the unit left the registry
    tidak_ditemukan                    (targeting) a recipient not found in the registry: an inclusion error

Interpretations worth knowing (documented in docs/eligibility.md): an undated Disdukcapil event counts at the end
of the period that reported it; on one day a death wins over a move; a person gives the component listed first when
two components pay the same; "receiving" means status_kepesertaan aktif for Dinas Sosial rows; RTLH recipients of
year(E) are judged by their state before this year's rehabilitation (otherwise every finished house would be an
inclusion error).
"""

from __future__ import annotations

__all__ = [
    "compute_eligibility",
    "derive_events",
    "eligibility_partitions",
    "finalize_eligibility",
    "run_period",
]


def __getattr__(name: str):
    # the warehouse path pulls in pandas and SQLAlchemy: import it only when a task asks for it
    if name in __all__ or name == "EligibilityError":
        from tkpk.eligibility import store

        return getattr(store, name)
    raise AttributeError(name)
