"""Python access to MLFlux (13C metabolic flux analysis): the ``mlflux`` binary's JSON/CSV
interface as functions returning pandas DataFrames, and the HTTP API of ``mlflux serve`` as
`Client` with the same methods."""
from .binary import find_binary
from .cli import models, predict, simulate, template
from .client import Client
from .errors import MLFluxError
from .frames import FLUX_COLUMNS

__all__ = ["Client", "FLUX_COLUMNS", "MLFluxError", "find_binary", "models", "predict", "simulate", "template"]
__version__ = "0.1.0"
