"""The split used for the shipped head: alphamatting objects and backgrounds, held out both ways.

Validation objects (hair, plants, glass-like, strings) are never seen in training, and their
backgrounds are never used in training either, so the numbers measure new objects in new scenes.
"""

from __future__ import annotations

from pathlib import Path

VAL_IMAGES = ("GT04", "GT08", "GT13", "GT24", "GT27")
TRAIN_IMAGES = tuple(
    f"GT{i:02d}" for i in (1, 2, 5, 6, 7, 9, 10, 12, 14, 15, 16, 17, 18, 19, 20, 22, 23, 25)
)
VAL_BACKGROUNDS = ("ColdRipple.jpg", "FallenLeaf.jpg", "Path.jpg")
# Training images a fine-tune leaves out to judge itself by (every sixth of TRAIN_IMAGES), so the
# decision to keep new weights is never made on the validation clips.
HOLDOUT_IMAGES = TRAIN_IMAGES[2::6]


def shared_data() -> Path:
    """`../shared/data` beside the checkout (see its README)."""
    return Path(__file__).resolve().parents[4] / "shared" / "data"


def backgrounds(validation: bool, root: Path | None = None) -> list[Path]:
    folder = (root or shared_data()) / "backgrounds"
    return sorted(p for p in folder.glob("*.jpg") if (p.name in VAL_BACKGROUNDS) == validation)
