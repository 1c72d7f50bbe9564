"""MLFlux's JSON and CSV outputs as pandas DataFrames; shared by the CLI and HTTP paths so
both give the same frame."""
from __future__ import annotations

import io
import math
import re
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import pandas as pd

from .errors import MLFluxError

#: Columns of `predict`'s frame after the optional ``sample`` and ``predictor`` columns, and
#: the field of one flux in ``mlflux predict --format json`` (``fluxes.REACTION``) each holds.
FLUX_COLUMNS: Dict[str, str] = {
    "net": "net", "net_se": "netSE",
    "xch": "xch", "xch_se": "xchSE",
    "dG": "deltaG", "dG_se": "deltaGSE",
}

#: Columns of a MID table in long form; `template` and `simulate` read them as text.
MID_TEXT_COLUMNS = {"experiment": str, "metabolite": str, "sample": str}


def number(value: Any) -> float:
    """A JSON number of MLFlux as a float: ``null`` or a missing field is NaN; non-finite
    values, written as the strings ``"nan"``, ``"inf"``, ``"-inf"``, are read back."""
    if value is None:
        return math.nan
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    raise MLFluxError(f"unexpected flux value {value!r} in MLFlux's JSON")


def predictor_list(predictor: Union[str, Sequence[str]]) -> Tuple[List[str], bool]:
    """The predictors to run and whether the frame gets a ``predictor`` column (a list was given)."""
    if isinstance(predictor, str):
        return [predictor], False
    names = list(predictor)
    if not names or not all(isinstance(p, str) and p for p in names):
        raise MLFluxError("predictor must be a name or a non-empty list of names")
    if len(set(names)) != len(names):
        raise MLFluxError(f"predictor list {names} names a predictor twice")
    return names, True


def sample_names(mids: pd.DataFrame) -> Optional[List[str]]:
    """The samples of a MID table with a ``sample`` column, as text in order of appearance
    (what ``mlflux predict`` calls them); ``None`` without one."""
    if not isinstance(mids, pd.DataFrame):
        raise TypeError(f"mids must be a pandas DataFrame, not {type(mids).__name__} (read a file with pandas.read_csv)")
    if "sample" not in mids.columns:
        return None
    return [str(s) for s in pd.unique(mids["sample"].dropna())]


def mids_csv(mids: pd.DataFrame) -> str:
    """A MID table as the long-form CSV ``mlflux predict`` reads (missing fractions empty)."""
    return mids.to_csv(index=False)


def read_mid_csv(text: str) -> pd.DataFrame:
    """A long-form MID table (``mlflux template`` or ``mlflux simulate --format csv``)."""
    return pd.read_csv(io.StringIO(text), dtype=MID_TEXT_COLUMNS)


Item = Tuple[Optional[str], str, Dict[str, Any]]


def prediction_frame(items: List[Item], *, model: str, samples: Optional[List[str]], predictors: List[str],
                     by_predictor: bool, notes: List[str], warnings: List[str]) -> pd.DataFrame:
    """One row per reaction of each prediction: ``items`` are (sample, predictor, the JSON
    object ``mlflux predict --format json`` prints for one sample). Rows are ordered by sample
    (as in the MID table), then predictor (as requested), then reaction (as in the JSON);
    ``attrs``: ``fit`` and ``result`` (the fit report and the whole JSON object; for one
    prediction the object itself, else a dict keyed by sample, predictor, or (sample,
    predictor) tuple), ``model``, ``notes`` and ``warnings``."""
    def key(sample: Optional[str], predictor: str) -> Any:
        if samples is not None and by_predictor:
            return (sample, predictor)
        return sample if samples is not None else predictor

    order = {s: i for i, s in enumerate(samples or [])}
    items = sorted(items, key=lambda it: (order.get(it[0], len(order)) if samples is not None else 0,
                                          predictors.index(it[1])))
    rows = []
    fits: Dict[Any, Any] = {}
    results: Dict[Any, Any] = {}
    for sample, predictor, result in items:
        fluxes = result.get("fluxes")
        if not isinstance(fluxes, dict):
            raise MLFluxError("MLFlux's prediction JSON has no 'fluxes' object")
        for reaction, flux in fluxes.items():
            row: Dict[str, Any] = {}
            if samples is not None:
                row["sample"] = sample
            if by_predictor:
                row["predictor"] = predictor
            row["reaction"] = reaction
            for column, field in FLUX_COLUMNS.items():
                row[column] = number(flux.get(field))
            rows.append(row)
        fits[key(sample, predictor)] = result.get("fit")
        results[key(sample, predictor)] = result
    columns = (["sample"] if samples is not None else []) + (["predictor"] if by_predictor else []) \
        + ["reaction"] + list(FLUX_COLUMNS)
    frame = pd.DataFrame(rows, columns=columns)
    for column in FLUX_COLUMNS:
        frame[column] = frame[column].astype("float64")
    single = len(items) == 1 and samples is None and not by_predictor
    frame.attrs["model"] = model
    frame.attrs["fit"] = next(iter(fits.values())) if single else fits
    frame.attrs["result"] = next(iter(results.values())) if single else results
    frame.attrs["notes"] = notes
    frame.attrs["warnings"] = warnings
    return frame


def snake(name: str) -> str:
    """``freeFluxes`` → ``free_fluxes``."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()
