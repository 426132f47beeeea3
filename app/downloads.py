"""A file made for one download: written in the data folder, sent, and gone, on every OS."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Callable

from flask import Response, current_app, send_file


def made_file(name: str, write: Callable[[Path], object], mimetype: str = "application/zip") -> Response:
    """Send the file `write(path)` makes, as an attachment named `name`; no copy stays in the data folder.

    Spooled: a bundle or backup with many photos goes to an anonymous temporary file (deleted when closed,
    on every OS), not memory; the named file the writer needs is gone before the response leaves.
    """
    data_dir = current_app.config["DATA_DIR"]
    spool = tempfile.SpooledTemporaryFile(max_size=32 << 20, dir=data_dir)
    try:
        with tempfile.TemporaryDirectory(prefix=".download-", dir=data_dir) as folder:
            out = Path(folder) / name
            write(out)
            with open(out, "rb") as written:
                shutil.copyfileobj(written, spool)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    response = send_file(spool, as_attachment=True, download_name=name, mimetype=mimetype)
    response.headers["Cache-Control"] = "no-store"
    return response
