"""A stdlib stand-in for `mlflux serve`'s JSON API (issue 18), answering canned documents of
the contract so the client's requests and parsing are tested without the real server.
Run as a script it mimics `mlflux serve --port 0`: it prints the listening line on stderr."""
from __future__ import annotations

import io
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pandas as pd

MODELS = {"models": [{"name": "toy", "description": "Antoniewicz et al. (2007) toy network",
                      "experiments": ["A_100", "A_010"], "metabolites": ["molB", "molC"],
                      "reactions": ["v1", "v2", "EX_molE"], "predictors": ["ann", "mfa"],
                      "imputers": ["knn"], "defaultImputer": "knn"}]}

TEMPLATE = "experiment,metabolite,isotopologue,fraction,stddev\nA_100,molB,0,,\nA_100,molB,1,,\n"

LIMIT = 4096  # bytes of a request body; more is 413


def result(predictor: str, scale: float) -> dict:
    """One sample's prediction as `mlflux predict --format json` prints it (fields used by
    the client; non-finite numbers as strings, as MLFlux writes them)."""
    return {"model": "toy", "predictor": predictor, "temperature": 310.15,
            "fluxes": {"EX_molE": {"net": 0.6 * scale, "netSE": 0.01},
                       "v2": {"net": 0.6 * scale, "netSE": 0.02, "xch": 0.5, "xchSE": 0.03,
                              "deltaG": -2.0, "deltaGSE": 0.09},
                       "v3": {"net": 0.2 * scale, "netSE": 0.004, "xch": 0, "xchSE": 0,
                              "deltaG": "-inf", "deltaGSE": "nan"}},
            "fit": {"ssr": 1e-4 * scale, "chiSquared": {"passes": scale == 1, "vssr": 60.0 * scale}}}


class Handler(BaseHTTPRequestHandler):
    requests: list = []  # bodies of the POSTs received, for the tests to inspect

    def log_message(self, *args) -> None:  # quiet
        pass

    def send(self, code: int, body: str, kind: str = "application/json") -> None:
        data = body.encode("utf-8")
        self.send_response(code)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def error(self, code: int, message: str) -> None:
        self.send(code, json.dumps({"error": message}))

    def do_GET(self) -> None:
        if self.path == "/api/v1/models":
            self.send(200, json.dumps(MODELS))
        elif self.path == "/api/v1/models/toy/template":
            self.send(200, TEMPLATE, "text/csv")
        elif self.path.startswith("/api/v1/models/") and self.path.endswith("/template"):
            self.error(404, f"unknown model '{self.path.split('/')[4]}'")
        else:
            self.error(404, "no such route")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        if length > LIMIT:
            self.rfile.read(length)  # drained, so the client reads the answer rather than a reset
            self.error(413, f"request body over {LIMIT} bytes")
            return
        try:
            body = json.loads(self.rfile.read(length))
        except ValueError:
            self.error(400, "body is not JSON")
            return
        Handler.requests.append(body)
        if self.path != "/api/v1/predict":
            self.error(404, "no such route")
        elif body.get("model") != "toy":
            self.error(404, f"unknown model '{body.get('model')}'")
        else:
            mids = pd.read_csv(io.StringIO(body["mids"]), dtype={"sample": str})
            names = list(pd.unique(mids["sample"])) if "sample" in mids else [""]
            samples = [{"sample": s, "predictions": [
                {"predictor": p, "seconds": 0.01, "notes": [], "warnings": [f"{p} {s or '-'}: below the range"],
                 "result": result(p, 1.0 + k)} for p in body["predictors"]]} for k, s in enumerate(names)]
            self.send(200, json.dumps({"model": "toy", "samples": samples}))


def start() -> ThreadingHTTPServer:
    """The fake server on a free loopback port, serving from a daemon thread."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


if __name__ == "__main__":  # `fake_server.py serve --port 0`, as Client.start_local runs mlflux
    if sys.argv[1:] != ["serve", "--port", "0"]:
        print(f"Error: Unexpected arguments {sys.argv[1:]}", file=sys.stderr)
        sys.exit(64)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print("note: a startup note", file=sys.stderr, flush=True)
    print(f"mlflux serve: listening on http://127.0.0.1:{server.server_address[1]}", file=sys.stderr, flush=True)
    server.serve_forever()
