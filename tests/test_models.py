"""The summaries' sector codes (surveys/models.py): a key sector or a pair of them."""

from __future__ import annotations

import itertools

from surveys.choices import SECTORS
from surveys.models import (
    SUMMARY_SECTOR_LENGTH,
    SummaryCell,
    sector_is_pair,
    sector_pair,
    sector_pairs_with,
    sector_partner,
)

CODES = [code for code, _label in SECTORS]


def test_a_pair_is_the_same_whichever_sector_comes_first():
    assert sector_pair("nev", "steel") == sector_pair("steel", "nev") == "steel|nev"  # choices.SECTORS' order
    assert sector_is_pair("steel|nev") and not sector_is_pair("steel") and not sector_is_pair("")


def test_every_pair_fits_the_sector_column():
    pairs = {sector_pair(a, b) for a, b in itertools.combinations(CODES, 2)}
    assert len(pairs) == len(CODES) * (len(CODES) - 1) // 2
    assert max(len(pair) for pair in pairs) <= SUMMARY_SECTOR_LENGTH
    assert SummaryCell._meta.get_field("sector").max_length == SUMMARY_SECTOR_LENGTH


def test_a_pair_stands_for_the_other_sector_of_the_chosen_one():
    pairs = sector_pairs_with("ic")
    assert len(pairs) == len(CODES) - 1 and all("ic" in pair.split("|") for pair in pairs)
    assert sorted(sector_partner(pair, "ic") for pair in pairs) == sorted(code for code in CODES if code != "ic")
    assert sector_partner("ic", "ic") == "ic"
    assert sector_pairs_with("retired-sector") == []  # a code no longer offered: no pairs, no error
