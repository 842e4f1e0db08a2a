"""The project's error types, in one light module (no torch): each says "the user can act on
this" and carries a one-line message that names the file, value or option and what is wrong.

The CLI reports an ``HMLPEError`` as one line and exits 2 (``hmlpe.cli``); every other
exception is a bug and keeps its traceback. Each type also derives from the built-in error a
caller would expect (a missing file is a ``FileNotFoundError``, a bad value a ``ValueError``),
so ``except ValueError`` keeps working. The modules that raise them re-export them
(``hmlpe.engine.checkpoint.CheckpointError`` is this ``CheckpointError``)."""

from __future__ import annotations


class HMLPEError(Exception):
    """Base of the errors a user can act on (one line, exit status 2 from the CLI)."""


class UsageError(HMLPEError, ValueError):
    """Options or arguments that cannot go together or cannot run here (e.g. fine-tuning
    without a dataset, resuming and initialising at once); the message names them."""


class ConfigError(HMLPEError, ValueError):
    """A config value of the wrong type or out of range; the message names the key, the value
    given and what the field expects (e.g. ``optim.lr=abc: expected a float, got a string``,
    ``optim.batch_size=0: expected an int >= 1``)."""


class UnknownNameError(HMLPEError, KeyError):
    """A config key, dataset or other name that does not exist; the message lists the known
    ones. A ``KeyError`` for callers, printed without ``KeyError``'s quotes."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class DataRootError(HMLPEError, FileNotFoundError):
    """The data root does not exist or is not a folder."""


class DatasetFileError(HMLPEError, FileNotFoundError):
    """A dataset file is missing or cannot be parsed; the message names the file."""


class ImageReadError(HMLPEError, OSError):
    """An image file is missing, truncated or unreadable; the message names the file."""


class DataPackError(HMLPEError, ValueError):
    """A pack that is missing, damaged, of another format, or cut with other settings."""


class FetchError(HMLPEError, RuntimeError):
    """A download or extraction failed; the message names the URL or file."""


class CheckpointError(HMLPEError, RuntimeError):
    """A checkpoint is missing, unreadable or does not fit the requested model/config."""


class NonFiniteLossError(HMLPEError, FloatingPointError):
    """The loss became NaN or infinite; training stopped, the last good checkpoint is kept.
    ``epoch`` (1-based) and ``step`` (1-based, within the epoch) say where."""

    def __init__(self, message: str, *, epoch: int, step: int):
        super().__init__(message)
        self.epoch = epoch
        self.step = step


class DeviceError(HMLPEError, ValueError):
    """A device request this machine cannot meet (one line for the user)."""


class RunFolderError(HMLPEError, RuntimeError):
    """A folder a command must not write, delete or share (one line for the user)."""


class ExecutorError(HMLPEError, RuntimeError):
    """The executor asked for cannot run here: submitit (the extra ``cluster``) is not
    installed, or Slurm's commands are not on this machine."""


class ResultsError(HMLPEError, ValueError):
    """A results file that cannot be read as this version writes it (names file and key)."""


class BookError(HMLPEError, RuntimeError):
    """A chapter failed to execute, or the book failed to build."""
