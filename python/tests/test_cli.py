"""The CLI path against independent truths: the flux state the toy example was made from,
the stoichiometry, ΔG = RT ln(v_rev/v_fwd), MIDs summing to 1, the README's worked example."""
from __future__ import annotations

import json
import math
import os
import stat
from pathlib import Path

import pandas as pd
import pytest

import mlflux_client as mf
from mlflux_client import MLFluxError

from conftest import REPO, TOY

#: Gas constant in kJ/(mol K) and the default temperature of `mlflux predict` (37 °C).
R = 8.314462618e-3
T = 310.15

COLUMNS = ["reaction", "net", "net_se", "xch", "xch_se", "dG", "dG_se"]


def toy_state(v3: float, v2_xch: float) -> dict:
    """A feasible toy flux state from its two free fluxes besides the uptake v1 = 1, by the
    mass balances B: v1 = v2 + v3 + v4, C: v3 = v4, D: v2 + v4 = v5; E leaves by v3 + 2 v4."""
    v1, v4 = 1.0, v3
    v2 = v1 - v3 - v4
    v5 = v2 + v4
    return {"v1": {"net": v1}, "v2": {"net": v2, "xch": v2_xch}, "v3": {"net": v3, "xch": 0},
            "v4": {"net": v4, "xch": 0}, "v5": {"net": v5, "xch": 0},
            "EX_molE": {"net": v3 + 2 * v4}, "EX_molF": {"net": v5}}


def delta_g(net: float, xch: float) -> float:
    """ΔG = RT ln(v_rev/v_fwd) with v_fwd = xch + max(net, 0), v_rev = xch − min(net, 0)."""
    return R * T * math.log((xch - min(net, 0)) / (xch + max(net, 0)))


@pytest.mark.parametrize("predictor, net_tol, xch_tol", [("ann", 0.01, 0.06), ("mfa", 1e-4, 1e-3)])
def test_predict_recovers_the_toy_flux_state(toy_predictions, toy_truth, predictor, net_tol, xch_tol):
    df = toy_predictions
    assert list(df.columns) == ["predictor"] + COLUMNS
    rows = df[df["predictor"] == predictor].set_index("reaction")
    assert sorted(rows.index) == sorted(toy_truth)
    for reaction, flux in toy_truth.items():
        assert rows.loc[reaction, "net"] == pytest.approx(flux["net"], abs=net_tol), reaction
    assert rows.loc["v2", "xch"] == pytest.approx(toy_truth["v2"]["xch"], abs=xch_tol)
    # ΔG of the one reversible step follows from its predicted net and exchange flux.
    v2 = rows.loc["v2"]
    assert v2["dG"] == pytest.approx(delta_g(v2["net"], v2["xch"]), rel=1e-4)
    assert v2["dG"] == pytest.approx(delta_g(0.6, 0.5), abs=0.15 if predictor == "ann" else 0.01)
    # Uptake and efflux have no exchange flux; v1 is fixed, so it has no error.
    assert math.isnan(rows.loc["EX_molE", "xch"]) and math.isnan(rows.loc["EX_molE", "dG"])
    assert rows.loc["v1", "net_se"] == 0
    assert 0 < rows.loc["v3", "net_se"] < 0.05


def test_fit_report_of_exact_data(toy_predictions):
    fits = toy_predictions.attrs["fit"]
    assert set(fits) == {"ann", "mfa"}
    # The example MIDs are exact: least squares fits them to round-off, so the VSSR (σ 0.01)
    # falls below the χ² range of 72 MIDs − 2 identifiable free fluxes.
    mfa = fits["mfa"]
    assert mfa["ssr"] < 1e-12
    chi = mfa["chiSquared"]
    assert chi["degreesOfFreedom"] == 70 and not chi["passes"] and chi["vssr"] < chi["lower"]
    assert fits["ann"]["ssr"] < 1e-3
    assert len(toy_predictions.attrs["warnings"]) == 2  # both fits are "below the χ² range"
    assert all(w.startswith("mids.csv: the fit fails the χ² test") for w in toy_predictions.attrs["warnings"])


def test_simulate_matches_the_readme_worked_example(binary, toy_truth):
    # README "Worked example": `mlflux simulate --model toy --fluxes Plugins/toy/fluxes.json
    # --input molA=100` gives molB M+0 0.071429, M+1 0.928571 (= 13/14).
    df = mf.simulate("toy", toy_truth, inputs="molA=100", binary=binary)
    assert list(df.columns) == ["experiment", "metabolite", "isotopologue", "fraction"]
    assert set(df["experiment"]) == {"input"}
    molb = df[df["metabolite"] == "molB"].set_index("isotopologue")["fraction"]
    assert molb[1] == pytest.approx(13 / 14, abs=1e-6)
    assert molb[0] == pytest.approx(1 / 14, abs=1e-6)
    sums = df.groupby(["experiment", "metabolite"])["fraction"].sum()
    assert sums.to_numpy() == pytest.approx(1.0, abs=1e-12)
    # Unlabeled C-source: molC (from the unlabeled carbons of B) stays unlabeled.
    assert df[(df["metabolite"] == "molC") & (df["isotopologue"] == 0)]["fraction"].iloc[0] == pytest.approx(1.0)


def test_simulate_all_bundle_experiments_with_the_example_state(binary):
    manifest = json.loads((TOY / "manifest.json").read_text())
    df = mf.simulate("toy", binary=binary)  # fluxes=None: the bundle's exampleFluxes
    assert list(pd.unique(df["experiment"])) == manifest["experiments"]
    assert sorted(pd.unique(df["metabolite"])) == sorted(manifest["measured"])
    sums = df.groupby(["experiment", "metabolite"])["fraction"].sum()
    assert len(sums) == 6 * 5 and sums.to_numpy() == pytest.approx(1.0, abs=1e-12)
    assert df.attrs["warnings"] == []


def test_round_trip_simulate_then_least_squares(binary):
    state = toy_state(v3=0.3, v2_xch=1.5)  # not the shipped example state
    mids = mf.simulate("toy", state, binary=binary)
    df = mf.predict(mids, model="toy", predictor="mfa", binary=binary).set_index("reaction")
    for reaction, flux in state.items():
        assert df.loc[reaction, "net"] == pytest.approx(flux["net"], abs=1e-4), reaction
    assert df.loc["v2", "xch"] == pytest.approx(1.5, rel=1e-3)
    assert df.attrs["fit"]["ssr"] < 1e-12


def test_one_prediction_per_sample(binary, toy_mids, toy_truth):
    other = toy_state(v3=0.35, v2_xch=0.3)
    both = pd.concat([toy_mids.assign(sample="example"),
                      mf.simulate("toy", other, binary=binary).assign(sample="other")])
    df = mf.predict(both, model="toy", predictor="ann", binary=binary)
    assert list(df.columns) == ["sample"] + COLUMNS
    assert list(pd.unique(df["sample"])) == ["example", "other"]
    for sample, truth in [("example", toy_truth), ("other", other)]:
        rows = df[df["sample"] == sample].set_index("reaction")
        for reaction in ["v2", "v3", "v4", "v5"]:
            assert rows.loc[reaction, "net"] == pytest.approx(truth[reaction]["net"], abs=0.02), (sample, reaction)
    assert set(df.attrs["fit"]) == {"example", "other"}


def test_template_covers_the_example_layout(binary, toy_mids):
    t = mf.template("toy", binary=binary)
    assert list(t.columns) == ["experiment", "metabolite", "isotopologue", "fraction", "stddev"]
    assert t["fraction"].isna().all()
    key = ["experiment", "metabolite", "isotopologue"]
    assert t[key].values.tolist() == toy_mids[key].values.tolist()


def test_models_lists_the_toy_bundle(binary):
    df = mf.models(binary=binary)
    toy = df[(df["name"] == "toy") & (df["status"] == "loaded")].iloc[0]
    assert toy["experiments"] == 6 and toy["measured"] == 5 and toy["free_fluxes"] == 3
    assert {"ann", "mfa", "hybrid"} <= set(toy["predictors"]) and "knn" in toy["imputers"]


def test_unknown_model_is_the_cli_message(binary, toy_mids):
    with pytest.raises(MLFluxError) as e:
        mf.template("no-such-model", binary=binary)
    assert e.value.message.startswith("unknown model 'no-such-model' (known: ")
    assert "toy" in e.value.message and e.value.returncode != 0
    with pytest.raises(MLFluxError, match=r"^unknown model 'no-such-model'"):
        mf.predict(toy_mids, model="no-such-model", binary=binary)
    # A name that looks like an option stays a model name.
    with pytest.raises(MLFluxError, match=r"^unknown model '--version'"):
        mf.template("--version", binary=binary)


def test_bad_mids_name_the_metabolite(binary, toy_mids):
    bad = toy_mids.copy()
    bad.loc[(bad["experiment"] == "A_100") & (bad["metabolite"] == "molB") & (bad["isotopologue"] == 1), "fraction"] = 0.5
    with pytest.raises(MLFluxError) as e:
        mf.predict(bad, model="toy", predictor="mfa", binary=binary)
    assert "mids.csv" in e.value.message and "molB" in e.value.message
    assert "\n" not in e.value.message


def test_predictor_list_is_checked():
    with pytest.raises(MLFluxError, match="twice"):
        mf.predict(pd.DataFrame(), model="toy", predictor=["ann", "ann"])
    with pytest.raises(TypeError, match="DataFrame"):
        mf.predict("Plugins/toy/example_mids.csv", model="toy")


def test_explicit_missing_binary_is_a_clear_error(monkeypatch, tmp_path):
    with pytest.raises(MLFluxError, match=r"'/nonexistent/mlflux' \(binary=\) is not an executable file"):
        mf.models(binary="/nonexistent/mlflux")
    monkeypatch.setenv("MLFLUX_BIN", str(tmp_path))  # a folder, not an executable
    with pytest.raises(MLFluxError, match=r"\(\$MLFLUX_BIN\) is not an executable file"):
        mf.template("toy")


def test_no_binary_anywhere(monkeypatch, tmp_path):
    monkeypatch.delenv("MLFLUX_BIN", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(mf.binary, "_checkout_builds", lambda start: [])
    with pytest.raises(MLFluxError, match="no mlflux binary found: pass binary=, set MLFLUX_BIN"):
        mf.models()


def test_development_build_found_from_inside_a_checkout(monkeypatch, tmp_path):
    # A fake checkout: Package.swift and an executable .build/debug/mlflux.
    exe = tmp_path / ".build" / "debug" / "mlflux"
    exe.parent.mkdir(parents=True)
    exe.write_text("#!/bin/sh\n")
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    (tmp_path / "Package.swift").write_text("")
    (tmp_path / "notebooks").mkdir()
    monkeypatch.delenv("MLFLUX_BIN", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "notebooks"))
    monkeypatch.chdir(tmp_path / "notebooks")
    found = mf.find_binary()
    # The checkout the package sits in comes first when it is one (an editable install).
    assert found == str(exe) or Path(found).parent.parent.parent == REPO


def test_option_error_is_its_first_line(binary, toy_mids):
    # ArgumentParser follows the error line with usage lines; the message is the error alone.
    with pytest.raises(MLFluxError) as e:
        mf.predict(toy_mids, model="toy", stddev=-1, binary=binary)
    assert e.value.message.startswith("--stddev must be a finite number at least 1e-12") and "\n" not in e.value.message
    assert not e.value.message.startswith("Error") and "Usage" in e.value.stderr
