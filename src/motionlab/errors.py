"""The one error type motionlab raises for bad input."""

from __future__ import annotations

import os
from typing import Optional, Union


class MotionLabError(ValueError):
    """Bad input: names the file (if any), the place in it and the problem.

    ``str(err)`` reads ``"<file>: <place>: <problem>"`` with missing parts left out.
    The parts are kept as attributes so callers can react programmatically.
    """

    def __init__(
        self,
        problem: str,
        *,
        file: Optional[Union[str, os.PathLike]] = None,
        place: Optional[str] = None,
    ) -> None:
        self.file = os.fspath(file) if file is not None else None
        self.place = place
        self.problem = problem
        parts = [p for p in (self.file, place, problem) if p]
        super().__init__(": ".join(parts))

    def with_file(self, file: Union[str, os.PathLike]) -> "MotionLabError":
        """Return a copy of this error that also names ``file`` (when it named none)."""
        if self.file is not None:
            return self
        return MotionLabError(self.problem, file=file, place=self.place)


def choices_error(kind: str, name: str, valid, *, file=None, place=None) -> MotionLabError:
    """An error for an unknown name that lists the valid choices."""
    listed = ", ".join(sorted(str(v) for v in valid))
    return MotionLabError(f"unknown {kind} {name!r}; valid choices: {listed}", file=file, place=place)


class MotionLabNote(UserWarning):
    """Something a user should know about a file that was still read correctly (one line, naming the
    file); the command line prints it as ``motionlab: note: ...``."""
