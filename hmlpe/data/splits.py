"""The validation split: held-out parts of the training sets, for every choice the reproduction
makes (recipe, learning rate, schedule, ...). The paper mentions no validation split; this one
is the reproduction's. The test sets (Buffy episodes 2, 5, 6; FLIC's ``istest``) are evaluated
only for reported results, never to choose.

Held out by group, so that no frame of a validation shot or movie is seen in training:

* Buffy: episode 4 (96 of the 472 training frames; episode 3 keeps 376);
* FLIC: the training examples of the movies ``hitch`` and ``the-departed`` (264 + 148 = 412 of
  3982 kept training examples; 2 of FLIC's 30 movies, about 10%). FLIC's own test split draws
  its frames from the same 30 movies as its training split, so validation by movie is the
  stricter test of generalisation;
* LSP: the training images ``im0901`` .. ``im1000`` (the last tenth of LSP's training half;
  LSP has no groups, the images are of different people and events).

``DataConfig.holdout_validation`` decides whether a run trains without these examples (probes,
the compute curve: their held-out errors are validation errors) or on the paper's training sets
whole (reported profiles, as the paper trained).
"""

from __future__ import annotations

from hmlpe.data.datasets.records import PoseRecord

BUFFY_VALIDATION_EPISODES: tuple[int, ...] = (4,)
FLIC_VALIDATION_MOVIES: tuple[str, ...] = ("hitch", "the-departed")
LSP_VALIDATION_FIRST = 901  # im0901 .. im1000 (1-based image numbers)
LSP_VALIDATION_LAST = 1000

# One line for tables (companion.differences).
VALIDATION_DESCRIPTION = (
    f"Buffy episode {', '.join(map(str, BUFFY_VALIDATION_EPISODES))}; "
    f"FLIC movies {', '.join(FLIC_VALIDATION_MOVIES)}; LSP im0901-im1000"
)

# The datasets the validation split has a part of (every training dataset).
VALIDATION_DATASETS: tuple[str, ...] = ("buffy", "lsp", "flic")


def is_validation(record: PoseRecord) -> bool:
    """Whether a training record belongs to the validation split (module docstring). Test
    records never do."""
    if record.split != "train":
        return False
    if record.dataset == "buffy":
        return record.episode in BUFFY_VALIDATION_EPISODES
    if record.dataset == "flic":
        return record.extra.get("moviename") in FLIC_VALIDATION_MOVIES
    if record.dataset == "lsp":
        number = int(record.example.removeprefix("im"))
        return LSP_VALIDATION_FIRST <= number <= LSP_VALIDATION_LAST
    raise ValueError(f"{record.uid}: no validation rule for dataset {record.dataset!r}")


def split_validation(records: list[PoseRecord]) -> tuple[list[PoseRecord], list[PoseRecord]]:
    """(training part, validation part) of ``records``, each in the input order."""
    train: list[PoseRecord] = []
    val: list[PoseRecord] = []
    for r in records:
        (val if is_validation(r) else train).append(r)
    return train, val


def group_of(record: PoseRecord) -> str:
    """The group a record is held out with: Buffy episode, FLIC movie, LSP image."""
    if record.dataset == "buffy":
        return f"buffy/episode_{record.episode}"
    if record.dataset == "flic":
        return f"flic/{record.extra.get('moviename')}"
    return record.uid
