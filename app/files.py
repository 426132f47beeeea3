"""Writing files so a crash never leaves a half-written one under its final name. Pure; no Flask."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def write_atomic(path: Path, content: bytes) -> None:
    """Write via a temp file in the same folder, fsync, then rename: the final name is whole or absent.

    The temp name starts with a dot and ends in .tmp, so readers globbing `*.yaml` or looking for
    `<sha256>.<ext>` never see it.
    """
    handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise
