"""The exceptions fstgis raises.

Every one derives from :class:`FstError` and carries where the fault is: ``path`` (None for
in-memory input), ``record`` (the record's index among the file's live records) and
``offset`` (a byte offset in the file), each None when it does not apply. Some also derive
from the built-in exception a caller would catch anyway (``OSError``, ``ValueError``,
``KeyError``).
"""

from __future__ import annotations

__all__ = [
    "FstError",
    "FstIOError",
    "FstFileNotFoundError",
    "FstPermissionError",
    "NotFstFileError",
    "CorruptFileError",
    "DecodeError",
    "UnsupportedError",
    "LimitExceededError",
    "RecordNotFoundError",
    "UsageError",
    "ClosedFileError",
    "InvalidIpError",
    "GridError",
    "WriteError",
    "InvalidRecordError",
    "FstWarning",
]


class FstError(Exception):
    """Base class of every fstgis error."""

    def __init__(self, message, *, path=None, record=None, offset=None):
        super().__init__(message)
        self.path = path
        self.record = record
        self.offset = offset

    def __reduce__(self):
        # Keep the context across pickling (dask workers send errors back).
        return (_rebuild, (type(self), str(self), self.path, self.record, self.offset))


def _rebuild(cls, message, path, record, offset):
    return cls(message, path=path, record=record, offset=offset)


class FstIOError(FstError, OSError):
    """The operating system failed to read or write the file."""


class FstFileNotFoundError(FstIOError, FileNotFoundError):
    """The file does not exist (also a ``FileNotFoundError``)."""


class FstPermissionError(FstIOError, PermissionError):
    """The file may not be opened (also a ``PermissionError``)."""


class NotFstFileError(FstError):
    """The input is not an RPN standard file (no XDF or RSF magic)."""


class CorruptFileError(FstError):
    """The file or one of its records is malformed (``offset`` points at the fault)."""


class DecodeError(CorruptFileError):
    """A record's payload cannot be decoded (``record`` and ``offset`` name it)."""


class UnsupportedError(FstError):
    """A valid file or record that uses a feature fstgis does not implement."""


class LimitExceededError(FstError):
    """A size read from the file exceeds a configured limit (see ``fstgis.open``)."""


class RecordNotFoundError(FstError, KeyError):
    """No record matches the search."""

    def __str__(self):  # KeyError would quote the message
        return Exception.__str__(self)


class UsageError(FstError, ValueError):
    """An argument the call cannot use."""


class ClosedFileError(UsageError):
    """I/O on a closed file."""


class InvalidIpError(FstError, ValueError):
    """An ip that does not decode, or a value that cannot be encoded as an ip."""


class GridError(FstError):
    """A grid that cannot be georeferenced (X grids, missing positional records, ...)."""


class WriteError(FstError):
    """A file that cannot be written (locked, not appendable, a writer stopped)."""


class InvalidRecordError(WriteError, ValueError):
    """A record whose keys or values cannot be stored as asked."""


class FstWarning(UserWarning):
    """Something unusual found in a file that did not stop it from opening (an RSF segment
    cut short, whose records are in no directory; a directory checksum mismatch; a file a
    writer left open). The same findings are in ``File.diagnostics``."""
