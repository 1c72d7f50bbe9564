"""Shared fixtures: the repository, the binary under test, the toy model's example data."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import mlflux_client as mf

REPO = Path(__file__).resolve().parents[2]
TOY = REPO / "Plugins" / "toy"


@pytest.fixture(scope="session")
def binary() -> str:
    """The mlflux binary under test ($MLFLUX_BIN in CI); no binary fails every test that needs one."""
    return mf.find_binary()


@pytest.fixture(scope="session")
def toy_mids() -> pd.DataFrame:
    """The toy bundle's example MIDs: all six tracer experiments of the flux state below."""
    return pd.read_csv(TOY / "example_mids.csv")


@pytest.fixture(scope="session")
def toy_truth() -> dict:
    """The flux state that produced the example MIDs (Plugins/toy/fluxes.json)."""
    return json.loads((TOY / "fluxes.json").read_text())


@pytest.fixture(scope="session")
def toy_predictions(binary, toy_mids) -> pd.DataFrame:
    """ANN and least squares on the example MIDs, computed once for the tests that read them."""
    return mf.predict(toy_mids, model="toy", predictor=["ann", "mfa"], binary=binary)
