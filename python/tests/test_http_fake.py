"""The HTTP client against a stdlib fake of the API contract (fake_server.py): the request
it sends and the frames it builds from canned answers whose numbers are known."""
from __future__ import annotations

import io
import math
import os
import stat
import sys
from pathlib import Path

import pandas as pd
import pytest

import mlflux_client as mf
from mlflux_client import Client, MLFluxError

import fake_server

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def client():
    server = fake_server.start()
    yield Client(f"http://127.0.0.1:{server.server_address[1]}/", timeout=10)
    server.shutdown()


def mids(samples=None) -> pd.DataFrame:
    rows = [("A_100", "molB", 0, 0.25), ("A_100", "molB", 1, 0.75)]
    df = pd.DataFrame(rows, columns=["experiment", "metabolite", "isotopologue", "fraction"])
    if samples:
        df = pd.concat([df.assign(sample=s) for s in samples], ignore_index=True)
    return df


def test_models(client):
    df = client.models()
    assert list(df.columns) == ["name", "description", "experiments", "metabolites", "reactions",
                                "predictors", "imputers", "default_imputer"]
    assert df.loc[0, "name"] == "toy" and df.loc[0, "predictors"] == ["ann", "mfa"]
    assert df.loc[0, "default_imputer"] == "knn"


def test_template_and_unknown_model(client):
    t = client.template("toy")
    assert t["experiment"].tolist() == ["A_100", "A_100"] and t["isotopologue"].tolist() == [0, 1]
    assert t["fraction"].isna().all()
    with pytest.raises(MLFluxError) as e:
        client.template("nope")
    assert e.value.message == "unknown model 'nope'" and e.value.status == 404


def test_one_prediction(client):
    df = client.predict(mids(), model="toy", predictor="mfa", stddev=0.005)
    sent = fake_server.Handler.requests[-1]
    assert sent["model"] == "toy" and sent["predictors"] == ["mfa"]
    assert sent["imputer"] is None and sent["stddev"] == 0.005
    pd.testing.assert_frame_equal(pd.read_csv(io.StringIO(sent["mids"])), mids())
    assert list(df.columns) == ["reaction", "net", "net_se", "xch", "xch_se", "dG", "dG_se"]
    assert df["reaction"].tolist() == ["EX_molE", "v2", "v3"]
    v2 = df.set_index("reaction").loc["v2"]
    assert (v2["net"], v2["net_se"], v2["xch"], v2["xch_se"], v2["dG"], v2["dG_se"]) == (0.6, 0.02, 0.5, 0.03, -2.0, 0.09)
    ex = df.set_index("reaction").loc["EX_molE"]
    assert math.isnan(ex["xch"]) and math.isnan(ex["dG"])  # no exchange flux in the JSON
    v3 = df.set_index("reaction").loc["v3"]
    assert v3["dG"] == -math.inf and math.isnan(v3["dG_se"])  # "-inf", "nan" strings
    assert df.attrs["fit"]["ssr"] == 1e-4 and df.attrs["fit"]["chiSquared"]["passes"]
    assert df.attrs["warnings"] == ["mfa -: below the range"]


def test_samples_and_predictors(client):
    df = client.predict(mids(["s1", "s2"]), model="toy", predictor=["ann", "mfa"], imputer="knn")
    assert fake_server.Handler.requests[-1]["imputer"] == "knn"
    assert list(df.columns)[:3] == ["sample", "predictor", "reaction"]
    assert list(zip(df["sample"], df["predictor"]))[::3] == [("s1", "ann"), ("s1", "mfa"), ("s2", "ann"), ("s2", "mfa")]
    # The fake scales sample k's fluxes by 1 + k.
    assert df[df["reaction"] == "v3"]["net"].tolist() == pytest.approx([0.2, 0.2, 0.4, 0.4])
    assert set(df.attrs["fit"]) == {("s1", "ann"), ("s1", "mfa"), ("s2", "ann"), ("s2", "mfa")}
    assert df.attrs["fit"][("s2", "mfa")]["ssr"] == pytest.approx(2e-4)


def test_error_answers(client):
    with pytest.raises(MLFluxError) as e:
        client.predict(mids(), model="nope")
    assert e.value.message == "unknown model 'nope'" and e.value.status == 404
    big = pd.concat([mids()] * 200, ignore_index=True)
    with pytest.raises(MLFluxError) as e:
        client.predict(big, model="toy")
    assert e.value.status == 413 and "over 4096 bytes" in e.value.message


def test_unreachable_server():
    server = fake_server.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()  # the port is closed now
    with pytest.raises(MLFluxError, match=r"^cannot reach the MLFlux server at http://127\.0\.0\.1:\d+"):
        Client(url, timeout=5).models()


def fake_binary(tmp_path: Path) -> Path:
    """An executable that runs fake_server.py as `mlflux serve --port 0` would run."""
    exe = tmp_path / "mlflux"
    exe.write_text(f"#!/bin/sh\nexec {sys.executable} {HERE / 'fake_server.py'} \"$@\"\n")
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    return exe


def test_start_local_reads_the_listening_line_and_stops_the_server(tmp_path):
    with Client.start_local(binary=fake_binary(tmp_path)) as client:
        assert client.url.startswith("http://127.0.0.1:")
        assert client.models()["name"].tolist() == ["toy"]
    with pytest.raises(MLFluxError, match="cannot reach"):
        Client(client.url, timeout=5).models()


def test_start_local_without_serve_is_the_cli_message(tmp_path):
    exe = tmp_path / "mlflux"
    exe.write_text("#!/bin/sh\necho \"Error: Unexpected argument 'serve'\" >&2\nexit 64\n")
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    with pytest.raises(MLFluxError) as e:
        with Client.start_local(binary=exe):
            pass
    assert e.value.message == "Unexpected argument 'serve'" and e.value.returncode == 64
