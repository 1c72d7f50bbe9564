"""The HTTP API of ``mlflux serve`` (``/api/v1``) with the same methods as the CLI functions."""
from __future__ import annotations

import contextlib
import json
import queue
import re
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Iterator, List, Optional, Sequence, Union

import pandas as pd

from .binary import PathLike, find_binary
from .cli import error_message
from .errors import MLFluxError
from .frames import Item, mids_csv, predictor_list, prediction_frame, read_mid_csv, sample_names, snake

_LISTENING = re.compile(r"mlflux serve: listening on (http://\S+)")


class Client:
    """A client of a running ``mlflux serve`` at ``url``: `models`, `template` and `predict`
    return the same DataFrames as the module functions of the same names (`models`' columns
    are the API's, below). Errors are `MLFluxError` with the server's ``error`` text and the
    HTTP ``status``. The API has no simulation route: use `mlflux_client.simulate`."""

    def __init__(self, url: str = "http://127.0.0.1:8080", *, timeout: float = 300.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"Client({self.url!r})"

    def _request(self, method: str, path: str, body: Optional[Any] = None) -> bytes:
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(self.url + path, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return response.read()
        except urllib.error.HTTPError as e:
            text = e.read().decode("utf-8", "replace")
            try:
                message = json.loads(text)["error"]
            except (ValueError, KeyError, TypeError):
                message = text.strip() or e.reason
            raise MLFluxError(str(message), status=e.code) from None
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", e)
            raise MLFluxError(f"cannot reach the MLFlux server at {self.url}: {reason}") from None

    def _json(self, method: str, path: str, body: Optional[Any] = None) -> Any:
        raw = self._request(method, path, body)
        try:
            return json.loads(raw.decode("utf-8"))
        except ValueError as e:
            raise MLFluxError(f"{self.url}{path} answered no valid JSON ({e})") from None

    def models(self) -> pd.DataFrame:
        """``GET /api/v1/models``, one row per model: ``name``, ``description``, ``experiments``,
        ``metabolites``, ``reactions``, ``predictors``, ``imputers`` (lists), ``default_imputer``."""
        doc = self._json("GET", "/api/v1/models")
        rows = [{snake(k): v for k, v in m.items()} for m in doc.get("models", [])]
        columns = ["name", "description", "experiments", "metabolites", "reactions", "predictors",
                   "imputers", "default_imputer"]
        return pd.DataFrame(rows, columns=columns + [c for r in rows for c in r if c not in columns])

    def template(self, model: str) -> pd.DataFrame:
        """``GET /api/v1/models/{model}/template``: as `mlflux_client.template`."""
        raw = self._request("GET", f"/api/v1/models/{urllib.parse.quote(model, safe='')}/template")
        return read_mid_csv(raw.decode("utf-8"))

    def predict(self, mids: pd.DataFrame, model: str, predictor: Union[str, Sequence[str]] = "ann",
                imputer: Optional[str] = None, stddev: Optional[float] = None) -> pd.DataFrame:
        """``POST /api/v1/predict``: as `mlflux_client.predict` (same columns, order, ``attrs``)."""
        predictors, by_predictor = predictor_list(predictor)
        samples = sample_names(mids)
        body = {"model": model, "mids": mids_csv(mids), "predictors": predictors, "imputer": imputer,
                "stddev": None if stddev is None else float(stddev)}
        doc = self._json("POST", "/api/v1/predict", body)
        items: List[Item] = []
        notes: List[str] = []
        warnings: List[str] = []
        try:
            for s in doc["samples"]:
                name = s.get("sample") or (samples[0] if samples and len(samples) == 1 else None)
                for p in s["predictions"]:
                    items.append((name if samples is not None else None, p["predictor"], p["result"]))
                    notes += list(p.get("notes") or [])
                    warnings += list(p.get("warnings") or [])
        except (KeyError, TypeError) as e:
            raise MLFluxError(f"{self.url}/api/v1/predict answered an unexpected document (missing {e})") from None
        return prediction_frame(items, model=model, samples=samples, predictors=predictors,
                                by_predictor=by_predictor, notes=notes, warnings=warnings)

    @classmethod
    @contextlib.contextmanager
    def start_local(cls, binary: Optional[PathLike] = None, *, startup_timeout: float = 60.0,
                    timeout: float = 300.0) -> Iterator["Client"]:
        """Run ``mlflux serve --port 0`` (loopback, a free port) for the ``with`` block and
        yield a `Client` of it; the server is stopped on exit. A binary without ``serve``, or
        a server not listening within ``startup_timeout`` seconds, is `MLFluxError`."""
        exe = find_binary(binary)
        proc = subprocess.Popen([exe, "serve", "--port", "0"], stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        lines: "queue.Queue[Optional[str]]" = queue.Queue()

        def drain() -> None:  # reads stderr to its end so the server never blocks on it
            assert proc.stderr is not None
            for line in proc.stderr:
                lines.put(line)
            lines.put(None)

        threading.Thread(target=drain, daemon=True).start()
        try:
            seen: List[str] = []
            deadline = time.monotonic() + startup_timeout
            url = None
            while url is None:
                try:
                    line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    raise MLFluxError(f"mlflux serve did not report listening within {startup_timeout:g} s") from None
                if line is None:
                    proc.wait()
                    raise MLFluxError(error_message("".join(seen)), returncode=proc.returncode, stderr="".join(seen))
                seen.append(line)
                match = _LISTENING.search(line)
                if match:
                    url = match.group(1)
            yield cls(url, timeout=timeout)
        finally:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
