"""Versions of the list read from the current git repository, for check-pr in CI jobs."""

from __future__ import annotations

import subprocess
from pathlib import Path

from secml_papers.corpus.errors import InputError
from secml_papers.corpus.storage import read_list


def git_read(ref: str | None, path: str) -> str:
    """The file at ``path`` in ``ref``, or in the working tree when ``ref`` is None."""
    if ref is None:
        return read_list(str(Path(path))).text
    if ref.startswith("-"):
        raise InputError(f"{ref!r} is not a git ref")
    try:
        result = subprocess.run(
            ["git", "show", f"{ref}:{path}"], capture_output=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        raise InputError(f"git could not be run ({err})") from err
    if result.returncode != 0:
        reason = result.stderr.decode(errors="replace").strip().splitlines()
        raise InputError(f"git cannot read {path} at {ref}: {reason[-1] if reason else 'failed'}")
    try:
        return result.stdout.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InputError(f"{path} at {ref} is not UTF-8 text") from err
