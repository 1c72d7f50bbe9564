"""The HTTP client against the real `mlflux serve` (issue 18 item 1): the same frames as the
CLI path. Skipped, with the reason, while the binary under test has no `serve` subcommand."""
from __future__ import annotations

import subprocess

import pandas as pd
import pytest

import mlflux_client as mf
from mlflux_client import Client, MLFluxError


def has_serve(binary: str) -> bool:
    """Whether `mlflux serve --help` documents `serve` (without it, the top-level help comes back)."""
    done = subprocess.run([binary, "serve", "--help"], stdin=subprocess.DEVNULL, capture_output=True, text=True)
    return done.returncode == 0 and "USAGE: mlflux serve" in done.stdout


@pytest.fixture(scope="module")
def client(binary):
    if not has_serve(binary):
        pytest.skip(f"{binary} has no `serve` subcommand (`mlflux serve --help` does not document it): "
                    "the HTTP server of issue 18 is not in this build")
    with Client.start_local(binary=binary) as c:
        yield c


def test_models_match_the_cli(client, binary):
    api = client.models().set_index("name")
    cli = mf.models(binary=binary)
    cli = cli[cli["status"] == "loaded"].set_index("name")
    assert set(api.index) == set(cli.index)
    for name in api.index:
        assert sorted(api.loc[name, "predictors"]) == sorted(cli.loc[name, "predictors"]), name
        assert sorted(api.loc[name, "imputers"]) == sorted(cli.loc[name, "imputers"]), name
        experiments = api.loc[name, "experiments"]  # the ids (or their count)
        assert (experiments if isinstance(experiments, int) else len(experiments)) == cli.loc[name, "experiments"], name
    toy = api.loc["toy"]
    assert toy["default_imputer"] in toy["imputers"]


def test_template_matches_the_cli(client, binary):
    pd.testing.assert_frame_equal(client.template("toy"), mf.template("toy", binary=binary))


def test_predict_gives_the_cli_frame(client, binary, toy_mids, toy_predictions, toy_truth):
    df = client.predict(toy_mids, model="toy", predictor=["ann", "mfa"])
    pd.testing.assert_frame_equal(df, toy_predictions, check_exact=False, rtol=1e-7, atol=1e-10)
    assert df.attrs["fit"]["mfa"]["chiSquared"]["degreesOfFreedom"] == 70
    mfa = df[df["predictor"] == "mfa"].set_index("reaction")
    for reaction, flux in toy_truth.items():
        assert mfa.loc[reaction, "net"] == pytest.approx(flux["net"], abs=1e-4), reaction


def test_predict_samples_with_stddev_gives_the_cli_frame(client, binary, toy_mids):
    both = pd.concat([toy_mids.assign(sample="a"), toy_mids.assign(sample="b")], ignore_index=True)
    api = client.predict(both, model="toy", predictor="ann", stddev=0.005)
    cli = mf.predict(both, model="toy", predictor="ann", stddev=0.005, binary=binary)
    pd.testing.assert_frame_equal(api, cli, check_exact=False, rtol=1e-7, atol=1e-10)
    assert set(api.attrs["fit"]) == {"a", "b"}


def test_errors_are_4xx_with_the_message(client, toy_mids):
    with pytest.raises(MLFluxError) as e:
        client.predict(toy_mids, model="no-such-model")
    assert 400 <= e.value.status < 500 and "no-such-model" in e.value.message
    with pytest.raises(MLFluxError) as e:
        client.template("no-such-model")
    assert 400 <= e.value.status < 500 and "no-such-model" in e.value.message
    with pytest.raises(MLFluxError) as e:
        client.predict(toy_mids, model="toy", predictor="no-such-predictor")
    assert 400 <= e.value.status < 500
