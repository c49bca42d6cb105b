"""Which provider sites each engagement-list row names: by ID, by name, or approximately.

Linear and lean on long lists: every key (provider ID, normalised name) is computed once,
vectorised in Arrow, and turned into a small integer (its place among the sites' keys),
so rows are joined to sites by array lookups and integer merges, never row by row, and
no per-row Python strings are made. Approximate names are compared within a budget
(FUZZY_COMPARISON_LIMIT), so no list can make matching hang.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from rapidfuzz import fuzz, process

from geo.model.sectors import IV_SECTORS

# A name this similar (rapidfuzz token_sort_ratio, 0-100) is offered as a fuzzy match.
FUZZY_THRESHOLD = 85.0
# At most this many name comparisons for approximate matching (about half a second);
# rows beyond it are reported as not compared, so no list can make an analysis slow.
FUZZY_COMPARISON_LIMIT = 50_000_000
_CELLS_PER_CHUNK = 5_000_000  # bounds one score matrix to 20 MB of float32
_NAMES_PER_CHUNK = 100_000  # names normalised at a time
# Words that say what kind of company a provider is, not which: left out of name keys.
_LEGAL_WORDS = ("the", "ltd", "limited", "plc", "llp", "cic", "cio", "inc", "llc")
# How a row was matched, by code (Matches.how).
MATCHED_BY: tuple[str, ...] = ("none", "provider_id", "exact name", "fuzzy name")
NONE, BY_ID, BY_NAME, BY_FUZZY = range(len(MATCHED_BY))
EVERYWHERE = -1  # a row's scope when it names no ICB (or sites have none yet)
NO_SUCH_ICB = -2  # a row's scope when it names an ICB no site is in
# An engagement list's optional column: the provider name an analyst accepted as the
# approximate match of the row. The row is applied while that name is still its closest.
ACCEPTED_MATCH = "accepted_match"


def normalise_provider_names(names: pd.Series) -> pd.Series:
    """Provider names reduced for matching, all at once: 'The Café & Co. Ltd' -> 'cafe and co'.

    Case folded, accents and apostrophes dropped, '&' read as 'and', punctuation as spaces,
    legal words (Ltd, CIC, …) left out; blank and missing names give ''.
    """
    return pd.Series(_name_keys(names).to_pandas(), index=names.index, dtype="str")


def normalise_provider_name(name: object) -> str:
    """One provider name reduced for matching, as `normalise_provider_names` does."""
    return str(normalise_provider_names(pd.Series([name], dtype=object)).iloc[0])


def id_keys(ids: pd.Series) -> pd.Series:
    """Provider IDs as matched: their identity (NFC, invisible and control characters
    removed, as `geo.model.text.identity_text`), trimmed, upper case; blank as NA."""
    text = _arrow(pd.Series(ids, dtype="str").fillna(""))
    text = pc.utf8_normalize(pc.replace_substring_regex(text, _INVISIBLE, ""), "NFC")
    keys = pd.Series(pc.utf8_upper(pc.utf8_trim_whitespace(text)).to_pandas(), index=ids.index)
    keys = keys.astype("str")
    return keys.mask(keys == "")


def objects(values: pd.Series) -> np.ndarray:
    """Text as an object array with None for missing, converted in one step (not per cell)."""
    return _arrow(pd.Series(values, dtype="str")).to_numpy(zero_copy_only=False)


def _name_keys(names: pd.Series) -> pa.Array:
    """`normalise_provider_names` as one Arrow array, worked out in chunks so that the
    intermediate arrays stay small however long the list."""
    chunks = [
        _name_keys_of(names.iloc[start : start + _NAMES_PER_CHUNK])
        for start in range(0, len(names), _NAMES_PER_CHUNK)
    ]
    return pa.concat_arrays(chunks) if chunks else pa.array([], pa.large_string())


# Control and format characters (zero-width spaces, bidi overrides, byte-order marks): what
# `geo.model.text.identity_text` removes, so "S0001" and "S0001" + U+200B are one key.
_INVISIBLE = r"[\p{Cc}\p{Cf}]"


def _name_keys_of(names: pd.Series) -> pa.Array:
    text = _arrow(pd.Series(names, dtype="str").fillna("")).cast(pa.large_string())
    text = pc.utf8_lower(pc.replace_substring_regex(text, _INVISIBLE, ""))
    for old, new in (("ß", "ss"), ("ς", "σ"), ("&", " and "), ("'", ""), ("’", ""), ("`", "")):
        text = pc.replace_substring(text, old, new)  # casefold beyond lower(); apostrophes
    text = pc.replace_substring_regex(pc.utf8_normalize(text, "NFKD"), r"\p{Mn}", "")  # accents
    words = pc.utf8_split_whitespace(pc.replace_substring_regex(text, r"[^\p{L}\p{N}]+", " "))
    kept = _without(words, pa.array([*_LEGAL_WORDS, ""], type=pa.large_string()))
    return pc.binary_join(kept, pa.scalar(" ", pa.large_string()))


def _without(lists: pa.Array, dropped: pa.Array) -> pa.Array:
    """Each list of words without the words in `dropped`."""
    words = pc.list_flatten(lists)
    keep = pc.invert(pc.is_in(words, value_set=dropped))
    owners = pc.filter(pc.list_parent_indices(lists), keep).to_numpy()
    offsets = np.concatenate([[0], np.cumsum(np.bincount(owners, minlength=len(lists)))])
    return pa.LargeListArray.from_arrays(pa.array(offsets, pa.int64()), pc.filter(words, keep))


def _arrow(values: pd.Series) -> pa.Array:
    """A text Series as one Arrow array (a table read from Parquet arrives in chunks)."""
    array = pa.array(values)
    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


def _codes(keys: pa.Array, values: pa.Array) -> np.ndarray:
    """Each key's place among `values` (int64), -1 for a key that is not there or missing."""
    found = pc.index_in(keys.cast(values.type), value_set=values)
    return pc.fill_null(found, -1).to_numpy().astype(np.int64)


@dataclass(frozen=True)
class Matches:
    """How each list row was matched, one entry per row (arrays in list order)."""

    how: np.ndarray  # code into MATCHED_BY
    space: np.ndarray  # "id" or "name": which key `key` is
    key: np.ndarray  # the matched site key's code in its space, or -1
    scope: np.ndarray  # the ICB's code among the sites' ICBs, EVERYWHERE or NO_SUCH_ICB
    score: np.ndarray  # 100 for exact matches, the similarity for fuzzy ones, NaN for none
    applied: np.ndarray  # whether the row sets its sites' status
    sites: np.ndarray  # how many sites the row names
    first_site: np.ndarray  # position of the first of them, or -1
    statutory: np.ndarray  # how many of them are not independent or voluntary
    not_compared: np.ndarray  # rows left out of approximate matching by the budget
    accepted: np.ndarray  # approximate matches applied because an analyst accepted them
    accepted_elsewhere: np.ndarray  # accepted names that are no longer the closest match


@dataclass(frozen=True)
class _Keys:
    """One kind of site key: its distinct values, each site's code, and per key (and per key
    within an ICB, as key * ICBs + ICB) how many sites, the first one, how many not I+V."""

    values: pa.Array
    site_code: np.ndarray
    per_key: np.ndarray  # rows: key code; columns: n, first, statutory
    pairs: np.ndarray  # sorted key * ICBs + ICB codes
    per_pair: np.ndarray  # rows: as `pairs`; columns: n, first, statutory


class SiteIndex:
    """Every site's keys (provider ID, normalised name, ICB) as integer codes, computed once."""

    def __init__(self, sites: pd.DataFrame) -> None:
        self.has_icbs = "icb_code" in sites.columns
        self.iv = sites["sector"].isin(IV_SECTORS).fillna(False).to_numpy(bool)
        icbs = _arrow(pd.Series(sites["icb_code"] if self.has_icbs else pd.NA, sites.index, "str"))
        self.icb_values = pc.drop_null(pc.unique(icbs))
        self.site_icb = _codes(icbs, self.icb_values)
        names = _name_keys(sites["provider_name"])
        self.keys = {
            "id": self._keys(_arrow(id_keys(sites["provider_id"]))),
            "name": self._keys(pc.if_else(pc.equal(names, ""), pa.scalar(None, names.type), names)),
        }
        self._choices: dict[int, tuple[np.ndarray, list[str]]] = {}

    def _keys(self, site_keys: pa.Array) -> _Keys:
        values = pc.drop_null(pc.unique(site_keys))
        code = _codes(site_keys, values)
        per_key = _tally(code, self.iv, len(values))
        width = max(len(self.icb_values), 1)
        paired = np.where((code >= 0) & (self.site_icb >= 0), code * width + self.site_icb, -1)
        pairs = np.unique(paired[paired >= 0])
        pair_code = np.where(paired >= 0, np.searchsorted(pairs, paired), -1)
        return _Keys(values, code, per_key, pairs, _tally(pair_code, self.iv, len(pairs)))

    def scopes(self, icb_codes: pd.Series) -> np.ndarray:
        """Each row's scope: its ICB's code, NO_SUCH_ICB for an ICB no site is in, or
        EVERYWHERE where it names none or sites have no ICB yet."""
        if not self.has_icbs:
            return np.full(len(icb_codes), EVERYWHERE)
        given = _arrow(pd.Series(icb_codes, dtype="str"))
        code = _codes(given, self.icb_values)
        blank = pc.is_null(given).to_numpy(zero_copy_only=False)
        return np.where(blank, EVERYWHERE, np.where(code >= 0, code, NO_SUCH_ICB))

    def codes(self, space: str, keys: pa.Array) -> np.ndarray:
        """Each row key's code among the sites' keys of `space`, or -1."""
        return _codes(keys, self.keys[space].values)

    def counts(self, space: str, codes: np.ndarray, scopes: np.ndarray) -> np.ndarray:
        """Per row (n, first, statutory): how many sites its key names within its scope, the
        first of them and how many are not independent or voluntary; (0, -1, 0) for none."""
        keys = self.keys[space]
        found = np.tile(np.array([0, -1, 0], dtype=np.int64), (len(codes), 1))
        everywhere = (codes >= 0) & (scopes == EVERYWHERE)
        found[everywhere] = keys.per_key[codes[everywhere]]
        scoped = np.flatnonzero((codes >= 0) & (scopes >= 0))
        wanted = codes[scoped] * max(len(self.icb_values), 1) + scopes[scoped]
        place = np.minimum(np.searchsorted(keys.pairs, wanted), max(len(keys.pairs) - 1, 0))
        hit = keys.pairs[place] == wanted if len(keys.pairs) else np.zeros(len(wanted), bool)
        found[scoped[hit]] = keys.per_pair[place[hit]]
        return found

    def closest_names(
        self, names: pa.Array, scopes: np.ndarray, wanted: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per row, the code of the most similar site name in its scope (token_sort_ratio at
        least FUZZY_THRESHOLD; -1 for none) and its score; each distinct name and scope
        compared once, and rows past FUZZY_COMPARISON_LIMIT comparisons flagged."""
        closest = np.full(len(scopes), -1, dtype=np.int64)
        scores = np.full(len(scopes), np.nan)
        skipped = np.zeros(len(scopes), dtype=bool)
        budget = FUZZY_COMPARISON_LIMIT
        for scope in np.unique(scopes[wanted & (scopes != NO_SUCH_ICB)]):
            rows = np.flatnonzero(wanted & (scopes == scope))
            codes, choices = self._choices_in(int(scope))
            asked = pc.dictionary_encode(names.take(pa.array(rows)))  # each distinct name once
            distinct, number = asked.dictionary, asked.indices.to_numpy()
            affordable = min(len(distinct), budget // max(len(choices), 1))
            budget -= affordable * len(choices)
            best, best_score = _best_matches(distinct.slice(0, affordable).to_pylist(), choices)
            compared = number < affordable
            chosen = best[number[compared]]
            closest[rows[compared]] = np.where(chosen >= 0, codes[np.maximum(chosen, 0)], -1)
            scores[rows[compared]] = best_score[number[compared]]
            skipped[rows[~compared]] = True
        return closest, scores, skipped

    def _choices_in(self, scope: int) -> tuple[np.ndarray, list[str]]:
        """The codes of the site names in scope, and those names with their words sorted."""
        if scope not in self._choices:
            code = self.keys["name"].site_code
            inside = code >= 0 if scope == EVERYWHERE else (code >= 0) & (self.site_icb == scope)
            codes = np.unique(code[inside])
            names = self.keys["name"].values.take(pa.array(codes, pa.int64())).to_pylist()
            self._choices[scope] = (codes, [_sorted_tokens(name) for name in names])
        return self._choices[scope]

    def sites_of(self, space: str, codes: np.ndarray, scopes: np.ndarray) -> pd.DataFrame:
        """(item, position) for every site each (code, scope) item names."""
        sites = pd.DataFrame(
            {
                "code": self.keys[space].site_code,
                "icb": self.site_icb,
                "position": np.arange(len(self.iv)),
            }
        )
        items = pd.DataFrame({"code": codes, "icb": scopes, "item": np.arange(len(codes))})
        everywhere = items[items["icb"] == EVERYWHERE].drop(columns="icb")
        linked = [
            everywhere.merge(sites[["code", "position"]], on="code"),
            items[items["icb"] >= 0].merge(sites, on=["code", "icb"]),
        ]
        return pd.concat(linked, ignore_index=True)[["item", "position"]]


def match_rows(index: SiteIndex, rows: pd.DataFrame, accept_fuzzy_above: float | None) -> Matches:
    """How each row of an engagement list (provider_id, provider_name, icb_code) is matched:
    by provider ID, else by exact normalised name, else by the closest name (applied only
    when its score reaches `accept_fuzzy_above`, or when the row's ACCEPTED_MATCH is that
    closest name)."""
    scope = index.scopes(rows["icb_code"])
    ids, names = _row_keys(rows)
    id_code, name_code = index.codes("id", ids), index.codes("name", names)
    by_id, by_name = index.counts("id", id_code, scope), index.counts("name", name_code, scope)
    use_id = by_id[:, 0] > 0
    use_name = ~use_id & (by_name[:, 0] > 0)
    named = pc.not_equal(names, "").to_numpy(zero_copy_only=False)
    wanted = ~use_id & ~use_name & named
    closest, similarity, skipped = index.closest_names(names, scope, wanted)
    by_fuzzy = index.counts("name", closest, scope)
    use_fuzzy = wanted & (by_fuzzy[:, 0] > 0)
    chosen = [use_id, use_name, use_fuzzy]
    found = np.select(
        [c[:, None] for c in chosen], [by_id, by_name, by_fuzzy], np.array([0, -1, 0])
    )
    score = np.select([use_id | use_name, use_fuzzy], [100.0, similarity], np.nan)
    above = use_fuzzy & (score >= accept_fuzzy_above) if accept_fuzzy_above is not None else False
    chosen_name = _accepted_names(index, rows)
    by_analyst = use_fuzzy & (chosen_name >= 0) & (chosen_name == closest)
    stale = wanted & _accepted_given(rows) & ~by_analyst
    return Matches(
        how=np.select(chosen, [BY_ID, BY_NAME, BY_FUZZY], NONE).astype(np.int8),
        space=np.where(use_id, "id", "name"),
        key=np.select(chosen, [id_code, name_code, closest], -1),
        scope=scope,
        score=score,
        applied=use_id | use_name | above | by_analyst,
        sites=found[:, 0],
        first_site=found[:, 1],
        statutory=found[:, 2],
        not_compared=skipped,
        accepted=by_analyst,
        accepted_elsewhere=stale,
    )


def exactly_matched(index: SiteIndex, rows: pd.DataFrame) -> np.ndarray:
    """Which rows name a provider among the sites by ID or exact name, in any ICB."""
    ids, names = _row_keys(rows)
    return (index.codes("id", ids) >= 0) | (index.codes("name", names) >= 0)


def _accepted_given(rows: pd.DataFrame) -> np.ndarray:
    """Which rows carry a name an analyst accepted as their approximate match."""
    if ACCEPTED_MATCH not in rows.columns:
        return np.zeros(len(rows), dtype=bool)
    return rows[ACCEPTED_MATCH].notna().to_numpy(bool)


def _accepted_names(index: SiteIndex, rows: pd.DataFrame) -> np.ndarray:
    """Per row, the code of the site name an analyst accepted for it; -1 for none."""
    if ACCEPTED_MATCH not in rows.columns:
        return np.full(len(rows), -1, dtype=np.int64)
    names = _name_keys(rows[ACCEPTED_MATCH])
    return index.codes("name", pc.if_else(pc.equal(names, ""), pa.scalar(None, names.type), names))


def _row_keys(rows: pd.DataFrame) -> tuple[pa.Array, pa.Array]:
    """Each row's provider ID key (null where blank) and name key ('' where blank)."""
    return _arrow(id_keys(rows["provider_id"])), _name_keys(rows["provider_name"])


def _tally(code: np.ndarray, iv: np.ndarray, size: int) -> np.ndarray:
    """Per code 0..size-1 (n, first, statutory): how many sites have it, the first one's
    position and how many are not I+V; sites with code -1 are left out."""
    has = code >= 0
    n = np.bincount(code[has], minlength=size)
    statutory = np.bincount(code[has], weights=~iv[has], minlength=size).astype(np.int64)
    first = np.full(size, -1, dtype=np.int64)
    seen, where = np.unique(code[has], return_index=True)
    first[seen] = np.flatnonzero(has)[where]
    return np.column_stack([n, first, statutory]).astype(np.int64)


def _best_matches(queries: list[str], choices: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """For each query name, the place of the closest choice (choices have their words
    sorted) at FUZZY_THRESHOLD or above, -1 for none, and its score (NaN), in chunks that
    keep the score matrix small."""
    best = np.full(len(queries), -1, dtype=np.int64)
    scores = np.full(len(queries), np.nan)
    if not choices:
        return best, scores
    step = max(1, _CELLS_PER_CHUNK // len(choices))
    for start in range(0, len(queries), step):
        matrix = process.cdist(
            [_sorted_tokens(query) for query in queries[start : start + step]],
            choices,
            scorer=fuzz.ratio,
            processor=None,
            score_cutoff=FUZZY_THRESHOLD,
            workers=-1,
            dtype=np.float32,
        )
        top = matrix.argmax(axis=1)
        score = matrix[np.arange(len(top)), top].astype(float)
        close = score >= FUZZY_THRESHOLD
        chunk = slice(start, start + len(top))
        best[chunk] = np.where(close, top, -1)
        scores[chunk] = np.where(close, score, np.nan)
    return best, scores


def _sorted_tokens(key: str) -> str:
    """token_sort_ratio(a, b) is ratio() of the words sorted; sorting once is much faster."""
    return " ".join(sorted(key.split()))
