"""Opening a data-dictionary folder without trusting it.

A folder handed to ``import-master-data`` may come from anyone: unpacked from an archive, synced
from a share. So a dictionary file is opened only when it is a regular file inside the folder:

- a symbolic link whose target resolves outside the folder is refused and never opened, so neither
  its content nor its first line can end up in an error message (a link to a file inside the folder
  is followed);
- FIFOs, devices, sockets and folders named like a dictionary file are refused (a FIFO would block);
- every file is opened with O_NOFOLLOW and checked again with fstat on the open descriptor, so a
  file swapped for a link or a FIFO between the check and the open is caught;
- a file larger than the per-file limit, or a folder whose files add up to more than the total limit,
  is refused from its size alone, before a byte is read.

The opened files are then streamed by the domain (``engine.domain.masterdata.source``), which also
refuses a file that grows or shrinks while it is read.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from engine.domain.errors import MasterDataInvalid
from engine.domain.masterdata.fields import DICTIONARY_FILES, MANIFEST
from engine.domain.masterdata.source import Source

MIB = 1024 * 1024
_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
_KINDS = {stat.S_ISDIR: "a folder", stat.S_ISFIFO: "a FIFO (named pipe)", stat.S_ISCHR: "a character device",
          stat.S_ISBLK: "a block device", stat.S_ISSOCK: "a socket"}


@dataclass(frozen=True, slots=True)
class ReadLimits:
    """How much a dictionary folder may hold (settings ``BUDGETFLOW_MASTERDATA_MAX_BYTES`` and ``..._TOTAL_BYTES``)."""

    max_file_bytes: int = 20 * MIB
    max_total_bytes: int = 50 * MIB


@dataclass(frozen=True, slots=True)
class OpenedFolder:
    files: dict[str, Source]  # the dictionary files found, opened
    unexpected: list[str]  # other *.csv names: errors, never opened


@contextmanager
def open_folder(path: Path, limits: ReadLimits) -> Iterator[OpenedFolder]:
    """Open the folder's dictionary files safely; MasterDataInvalid lists every file refused. Closed on exit."""
    if not path.is_dir():
        raise MasterDataInvalid([f"{path}:-:-: is not a folder"])
    root = os.path.realpath(path)
    try:
        names = sorted(os.listdir(root))
    except OSError as exc:
        raise MasterDataInvalid([f"{path}:-:-: cannot be read ({exc.strerror})"]) from None
    with ExitStack() as stack:
        files: dict[str, Source] = {}
        problems: list[str] = []
        for name in (n for n in names if n in DICTIONARY_FILES):
            try:
                files[name] = _open(root, name, stack)
            except _Refused as refused:
                problems.append(f"{name}:-:-: {refused}")
        problems.extend(_over_limits(path, files, limits))
        if problems:
            raise MasterDataInvalid(problems)
        unexpected = [n for n in names if n.lower().endswith(".csv") and n not in DICTIONARY_FILES]
        yield OpenedFolder(files, unexpected)


class _Refused(Exception):
    pass


def _open(root: str, name: str, stack: ExitStack) -> Source:
    target = os.path.join(root, name)
    if os.path.islink(target):
        target = os.path.realpath(target)
        if os.path.commonpath([root, target]) != root or target == root:
            raise _Refused("is a symbolic link to a file outside the folder; copy the file into the folder instead")
    kind = _kind(os.lstat(target).st_mode) if os.path.lexists(target) else None
    if kind is not None:
        raise _Refused(f"is {kind}, not a regular file")
    try:
        fd = os.open(target, _OPEN_FLAGS)
    except OSError as exc:
        raise _Refused(f"cannot be read ({exc.strerror})") from None
    stream = stack.enter_context(os.fdopen(fd, "rb"))
    status = os.fstat(fd)  # of what was opened, not of what the name pointed to a moment earlier
    if (kind := _kind(status.st_mode)) is not None:
        raise _Refused(f"is {kind}, not a regular file")
    return Source(status.st_size, stream)


def _kind(mode: int) -> str | None:
    """What a non-regular file is; None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    return next((kind for test, kind in _KINDS.items() if test(mode)), "not a regular file")


def _over_limits(path: Path, files: dict[str, Source], limits: ReadLimits) -> list[str]:
    problems = [f"{name}:-:-: is {source.size:,} bytes; the limit is {limits.max_file_bytes:,} bytes per file "
                "(setting BUDGETFLOW_MASTERDATA_MAX_BYTES)"
                for name, source in files.items() if source.size > limits.max_file_bytes and name != MANIFEST]
    total = sum(source.size for source in files.values())
    if not problems and total > limits.max_total_bytes:
        problems.append(f"{path}:-:-: the dictionary files add up to {total:,} bytes; the limit is "
                        f"{limits.max_total_bytes:,} bytes (setting BUDGETFLOW_MASTERDATA_MAX_TOTAL_BYTES)")
    return problems
