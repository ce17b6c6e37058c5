"""Household linkage (after the person links of the month are decided).

Household-level rows (Dinas Sosial KPM, Perkim; the kelurahan proposals grouped by No KK) match registry
households by No KK, and else through the link of their head / pengurus: when a row's KK is unknown or changed (a
family that split, pecah KK) the household follows its linked person. A kelurahan proposal (`kelurahan_usulan`) of a
household whose KK or members already sit in a registry household is a duplicate of that household, not a new one.
A household submitted twice in a month (by one OPD or two) gets one `household_key`, so it counts once.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

PROPOSAL_TYPE = "kelurahan_usulan"


def _key(text: str) -> str:
    return "H" + hashlib.sha256(text.encode()).hexdigest()[:15].upper()


def link_households(rows: pd.DataFrame, registry_kk: dict[str, str], household_types: set[str]) -> tuple[
        pd.DataFrame, dict]:
    """Household links for the household-level rows of `rows`.

    `rows`: one row per staged row with row_id, submission_type, no_kk (normalised or ''), match_status,
    id_keluarga (of the linked person or None), person_key. `registry_kk`: No KK -> registry id_keluarga.
    `household_types`: submission types whose unit is the household, plus those grouped into households.
    Returns (links: row_id, id_keluarga, match_status, via, household_key, duplicate_of, evidence; counts).
    """
    hh = rows[rows["submission_type"].isin(household_types)].copy()
    if hh.empty:
        return pd.DataFrame(columns=["row_id", "id_keluarga", "match_status", "via", "household_key", "duplicate_of",
                                     "evidence"]), {"households_matched": 0, "households_new": 0,
                                                    "households_deduplicated": 0, "household_proposals_duplicate": 0}
    hh["no_kk"] = hh["no_kk"].fillna("").astype(str)
    proposal = (hh["submission_type"] == PROPOSAL_TYPE).to_numpy()
    # A proposal's unit is its No KK group (or, without a KK, the person alone); any other row is its own unit.
    row_unit = "row:" + hh["row_id"].astype(str)
    kk_unit = hh["submission_type"] + "|" + hh["no_kk"]
    hh["unit"] = np.where(proposal & (hh["no_kk"] != "").to_numpy(), kk_unit, row_unit)
    units = hh.groupby("unit", sort=True).agg(no_kk=("no_kk", "first"), submission_type=("submission_type", "first"))
    units["registry"] = units["no_kk"].map(lambda k: registry_kk.get(k) if k else None)
    # Pecah KK or an unknown KK: the household follows its linked person(s) (the most common household).
    linked = hh[(hh["match_status"] == "linked") & hh["id_keluarga"].notna()]
    votes = linked.groupby(["unit", "id_keluarga"]).size().rename("n").reset_index()
    votes = votes.sort_values(["unit", "n", "id_keluarga"], ascending=[True, False, True]).drop_duplicates("unit")
    units["person"] = votes.set_index("unit")["id_keluarga"].reindex(units.index)
    units["members_linked"] = linked.groupby("unit").size().reindex(units.index).fillna(0).astype(int)
    has_reg = units["registry"].notna()
    units["target"] = units["registry"].where(has_reg, units["person"])
    units["via"] = np.where(has_reg, "no_kk", np.where(units["person"].notna(), "person", None))
    is_prop = units["submission_type"] == PROPOSAL_TYPE
    found = units["target"].notna()
    units["match_status"] = np.where(found & is_prop, "duplicate", np.where(found, "linked", "new"))
    units["duplicate_of"] = units["target"].where(found & is_prop, None)
    units["evidence"] = np.select(
        [found & is_prop & has_reg, found & is_prop, found & has_reg, found],
        ["usulan_sudah_di_registri;no_kk=sama",
         "usulan_sudah_di_registri;anggota_tertaut=" + units["members_linked"].astype(str),
         "no_kk=sama", "lewat_orang"], "tidak_ditemukan")
    keys = units["target"].astype(object).copy()
    by_kk = ~found & (units["no_kk"] != "")
    keys[by_kk] = [_key("kk:" + k) for k in units.loc[by_kk, "no_kk"]]
    rest = ~found & ~by_kk
    if rest.any():
        pk = hh[hh["unit"].isin(units.index[rest])].groupby("unit")["person_key"].agg(
            lambda v: "|".join(sorted(map(str, v))))
        keys[rest] = [_key("pk:" + pk[u]) for u in units.index[rest]]
    units["household_key"] = keys
    out = hh[["row_id", "unit"]].merge(units, left_on="unit", right_index=True, how="left")
    out = out.rename(columns={"target": "id_keluarga"})[
        ["row_id", "id_keluarga", "match_status", "via", "household_key", "duplicate_of", "evidence", "unit"]]
    links = out.drop(columns=["unit"]).reset_index(drop=True)
    units = out.drop_duplicates("unit")
    counts = {
        "households_matched": int(units.loc[units["match_status"] == "linked", "household_key"].nunique()),
        "households_new": int(units.loc[units["match_status"] == "new", "household_key"].nunique()),
        "household_proposals_duplicate": int(units.loc[units["match_status"] == "duplicate", "household_key"]
                                             .nunique()),
        # Units (a row, or a proposal's KK group) beyond the first of each household this month.
        "households_deduplicated": int(len(units) - units["household_key"].nunique()),
    }
    return links, counts
