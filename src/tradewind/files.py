"""Writing output files safely: all or nothing."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from tradewind.errors import ConfigError


def write_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically: a temp file beside it, fsync, then ``os.replace``.

    Readers never see half a file, and on any failure an existing file at ``path`` is left
    untouched. The directory must exist (a typo in it is an error, not a new folder).
    """
    dest = Path(path)
    if not dest.parent.is_dir():
        raise ConfigError(f"output directory {str(dest.parent)!r} does not exist")
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp_name, 0o644)  # mkstemp makes 0600; outputs are ordinary files
        os.replace(tmp_name, dest)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    return dest
