"""The ``mlflux`` command line as functions returning DataFrames."""
from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import pandas as pd

from .binary import PathLike, find_binary
from .errors import MLFluxError
from .frames import (Item, mids_csv, predictor_list, prediction_frame, read_mid_csv,
                     sample_names, snake)

#: Name of the temporary MID or flux file in messages (instead of its temporary path).
_MIDS_NAME = "mids.csv"
_FLUXES_NAME = "fluxes.json"


def error_message(stderr: str) -> str:
    """The CLI's error line without its ``Error:`` prefix (the last line when none has it)."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in lines:
        if line.startswith("Error:"):
            return line[len("Error:"):].strip()
    return lines[-1] if lines else "mlflux failed without a message"


def run(args: Sequence[str], *, binary: Optional[PathLike] = None,
        rename: Optional[Mapping[str, str]] = None) -> Tuple[str, str]:
    """Run ``mlflux ARGS``: its stdout and stderr; a non-zero exit is `MLFluxError` with the
    CLI's message. ``rename`` replaces temporary paths by short names in the messages."""
    exe = find_binary(binary)
    try:
        done = subprocess.run([exe, *args], stdin=subprocess.DEVNULL, capture_output=True, text=True)
    except OSError as e:
        raise MLFluxError(f"cannot run {exe}: {e}") from e
    stderr = done.stderr
    for long, short in (rename or {}).items():
        stderr = stderr.replace(long, short)
    if done.returncode != 0:
        raise MLFluxError(error_message(stderr), returncode=done.returncode, stderr=stderr)
    return done.stdout, stderr


def _messages(stderr: str, prefix: str) -> List[str]:
    return [line[len(prefix):].strip() for line in stderr.splitlines() if line.startswith(prefix)]


def _json(text: str, command: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as e:
        raise MLFluxError(f"mlflux {command} printed no valid JSON ({e})") from e


def models(*, binary: Optional[PathLike] = None) -> pd.DataFrame:
    """The model bundles found (``mlflux models --format json``), one row each: ``name``,
    ``status`` (loaded, broken, shadowed), ``network``, ``experiments``, ``measured``,
    ``free_fluxes`` (counts), ``predictors`` and ``imputers`` (lists of those trained, i.e.
    runnable now), ``untrained`` (list), ``directory``, ``error``. ``attrs["searched"]``: the
    folders searched."""
    out, _ = run(["models", "--format", "json"], binary=binary)
    doc = _json(out, "models")
    rows = []
    for b in doc.get("bundles", []):
        strategies = b.get("strategies") or []
        row = {snake(k): v for k, v in b.items() if k not in ("strategies", "shadowedBy")}
        row["predictors"] = [s["name"] for s in strategies if s.get("kind") == "predictor" and s.get("trained")]
        row["imputers"] = [s["name"] for s in strategies if s.get("kind") == "imputer" and s.get("trained")]
        row["untrained"] = [s["name"] for s in strategies if not s.get("trained")]
        row["shadowed_by"] = b.get("shadowedBy")
        rows.append(row)
    columns = ["name", "status", "network", "experiments", "measured", "free_fluxes", "predictors",
               "imputers", "untrained", "directory", "error", "shadowed_by"]
    frame = pd.DataFrame(rows, columns=columns)
    frame.attrs["searched"] = doc.get("searched", [])
    return frame


def template(model: str, *, binary: Optional[PathLike] = None) -> pd.DataFrame:
    """The empty MID table of ``model`` (``mlflux template MODEL``): columns ``experiment,
    metabolite, isotopologue, fraction, stddev``, fractions NaN to be filled in."""
    out, _ = run(["template", "--", model], binary=binary)
    return read_mid_csv(out)


FluxState = Mapping[str, Union[float, Mapping[str, float]]]


def _flux_json(fluxes: FluxState) -> str:
    """A flux state as ``mlflux simulate --fluxes`` reads it; a bare number is a net flux."""
    state: Dict[str, Dict[str, float]] = {}
    for reaction, value in fluxes.items():
        if isinstance(value, Mapping):
            state[str(reaction)] = {str(k): float(v) for k, v in value.items()}
        else:
            state[str(reaction)] = {"net": float(value)}
    return json.dumps(state)


def _example_fluxes(model: str, binary: Optional[PathLike]) -> str:
    """The path of a bundle's example flux state (its manifest's ``exampleFluxes``)."""
    bundles = models(binary=binary)
    found = bundles[(bundles["name"] == model) & (bundles["status"] == "loaded")]
    if found.empty:
        template(model, binary=binary)  # raises the CLI's message for an unknown or broken model
        raise MLFluxError(f"model {model!r} is not a loaded bundle")
    directory = Path(found.iloc[0]["directory"])
    with open(directory / "manifest.json", encoding="utf-8") as f:
        example = json.load(f).get("exampleFluxes")
    if not example:
        raise MLFluxError(f"{directory / 'manifest.json'}: no exampleFluxes; pass fluxes=")
    return str(directory / example)


def simulate(model: str, fluxes: Optional[Union[FluxState, PathLike]] = None,
             inputs: Optional[Union[str, Sequence[str]]] = None, *,
             binary: Optional[PathLike] = None) -> pd.DataFrame:
    """Simulated MIDs of a flux state (``mlflux simulate --model MODEL --format csv``), long
    form: ``experiment, metabolite, isotopologue, fraction``.

    ``fluxes``: ``{"REACTION": {"net": x, "xch": y}}`` (a bare number is a net flux; reactions
    left out are 0), or the path of such a JSON file; ``None`` takes the bundle's example state.
    ``inputs``: tracer specs ``"POOL=PATTERN[:FRACTION]"`` (``--input``), one or a list; ``None``
    simulates all the bundle's tracer experiments. ``attrs["warnings"]``: the CLI's warnings
    (e.g. a flux state violating a constraint)."""
    specs = [inputs] if isinstance(inputs, str) else list(inputs or [])
    with tempfile.TemporaryDirectory(prefix="mlflux-") as tmp:
        rename: Dict[str, str] = {}
        if fluxes is None:
            path = _example_fluxes(model, binary)
        elif isinstance(fluxes, Mapping):
            path = os.path.join(tmp, _FLUXES_NAME)
            with open(path, "w", encoding="utf-8") as f:
                f.write(_flux_json(fluxes))
            rename[path] = _FLUXES_NAME
        else:
            path = os.fspath(fluxes)
        args = ["simulate", f"--model={model}", f"--fluxes={path}", "--format", "csv"]
        args += [f"--input={spec}" for spec in specs]
        out, err = run(args, binary=binary, rename=rename)
    frame = read_mid_csv(out)
    frame.attrs["warnings"] = _messages(err, "warning:")
    return frame


def predict_args(model: str, predictor: str, imputer: Optional[str], stddev: Optional[float]) -> List[str]:
    # NAME=VALUE forms and "--" before paths: a value starting with "-" stays a value.
    args = ["predict", f"--model={model}", f"--predictor={predictor}", "--format", "json"]
    if imputer is not None:
        args.append(f"--imputer={imputer}")
    if stddev is not None:
        args.append(f"--stddev={float(stddev)!r}")  # "=" so a negative value reaches the range check
    return args


def predict(mids: pd.DataFrame, model: str, predictor: Union[str, Sequence[str]] = "ann",
            imputer: Optional[str] = None, stddev: Optional[float] = None, *,
            binary: Optional[PathLike] = None) -> pd.DataFrame:
    """Fluxes from measured MIDs (``mlflux predict --format json``), one row per reaction.

    ``mids``: long form ``experiment, metabolite, isotopologue, fraction[, stddev][, sample]``
    (NaN fraction: not measured). ``predictor``: a name (``ann``, ``mfa``, ``hybrid``) or a list
    of names. Columns: ``sample`` (only when ``mids`` has a ``sample`` column; one prediction
    per sample), ``predictor`` (only when ``predictor`` is a list; one block of rows per
    predictor), ``reaction``, ``net``, ``net_se``, ``xch``, ``xch_se``, ``dG``, ``dG_se`` (ΔG in
    kJ/mol; ``xch`` and ``dG`` NaN for one-way reactions, ΔG ``-inf`` when a bidirectional
    reaction's exchange flux is 0). ``attrs["fit"]``: the fit report (SSR, ``chiSquared`` with
    ``passes``, residuals) — see `frames.prediction_frame` for the keys with several
    predictions; ``attrs["notes"]``, ``attrs["warnings"]``: the CLI's notes and warnings."""
    predictors, by_predictor = predictor_list(predictor)
    samples = sample_names(mids)
    text = mids_csv(mids)
    items: List[Item] = []
    notes: List[str] = []
    warnings: List[str] = []
    with tempfile.TemporaryDirectory(prefix="mlflux-") as tmp:
        path = os.path.join(tmp, _MIDS_NAME)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        for p in predictors:
            out, err = run(predict_args(model, p, imputer, stddev) + ["--", path], binary=binary, rename={path: _MIDS_NAME})
            notes += _messages(err, "note:")
            warnings += _messages(err, "warning:")
            doc = _json(out, "predict")
            if "samples" in doc:
                items += [(s["sample"], p, s["prediction"]) for s in doc["samples"]]
            else:
                items.append((samples[0] if samples else None, p, doc))
    return prediction_frame(items, model=model, samples=samples, predictors=predictors,
                            by_predictor=by_predictor, notes=notes, warnings=warnings)
