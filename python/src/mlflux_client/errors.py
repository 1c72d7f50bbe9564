"""The one exception of the package."""
from __future__ import annotations

from typing import Optional


class MLFluxError(Exception):
    """An error reported by MLFlux: the CLI's one-line message (without its ``Error:``
    prefix) or the HTTP API's ``{"error": ...}`` text; also raised when no binary is found
    or a server cannot be reached.

    ``returncode`` is the CLI's exit status, ``status`` the HTTP status code, ``stderr`` the
    CLI's whole standard error (each ``None`` where it does not apply)."""

    def __init__(self, message: str, *, returncode: Optional[int] = None,
                 status: Optional[int] = None, stderr: Optional[str] = None) -> None:
        super().__init__(message)
        self.message = message
        self.returncode = returncode
        self.status = status
        self.stderr = stderr
