"""Where the ``mlflux`` executable is."""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import List, Optional, Union

from .errors import MLFluxError

PathLike = Union[str, "os.PathLike[str]"]


def _checkout_builds(start: Path) -> List[Path]:
    """``.build/release/mlflux`` and ``.build/debug/mlflux`` of every folder from ``start`` up
    that is an MLFlux checkout (has a ``Package.swift``)."""
    found = []
    for folder in [start, *start.parents]:
        if (folder / "Package.swift").is_file():
            found += [folder / ".build" / "release" / "mlflux", folder / ".build" / "debug" / "mlflux"]
    return found


def candidate_builds() -> List[Path]:
    """The development builds searched last: those of the checkout this package was loaded
    from (an editable install or ``PYTHONPATH=python/src``), then those of the current
    directory and its parents (a notebook opened in a clone, after ``pip install ./python``)."""
    seen: List[Path] = []
    for p in _checkout_builds(Path(__file__).resolve().parent) + _checkout_builds(Path.cwd().resolve()):
        if p not in seen:
            seen.append(p)
    return seen


def _runnable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def find_binary(binary: Optional[PathLike] = None) -> str:
    """The ``mlflux`` executable to run: ``binary`` when given, else ``$MLFLUX_BIN``, else
    ``mlflux`` on ``PATH``, else a ``.build/{release,debug}/mlflux`` of an MLFlux checkout
    (`candidate_builds`). An explicit ``binary`` or ``$MLFLUX_BIN`` that is not an executable
    file is an error, never silently replaced by another binary."""
    if binary is not None:
        path = Path(binary).expanduser()
        if not _runnable(path):
            raise MLFluxError(f"mlflux binary {str(binary)!r} (binary=) is not an executable file")
        return str(path)
    env = os.environ.get("MLFLUX_BIN")
    if env:
        path = Path(env).expanduser()
        if not _runnable(path):
            raise MLFluxError(f"mlflux binary {env!r} ($MLFLUX_BIN) is not an executable file")
        return str(path)
    on_path = shutil.which("mlflux")
    if on_path:
        return on_path
    builds = candidate_builds()
    for path in builds:
        if _runnable(path):
            return str(path)
    searched = ", ".join(str(p) for p in builds) or "no MLFlux checkout around the package or the current directory"
    raise MLFluxError("no mlflux binary found: pass binary=, set MLFLUX_BIN, put mlflux on PATH, "
                      f"or run `swift build -c release` in the MLFlux checkout (searched: {searched})")
