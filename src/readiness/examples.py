"""Example data for the demo, the example notebooks and the tests: nothing is downloaded.

``python -m readiness.examples DIR`` writes scikit-learn's breast cancer data set
(shipped inside scikit-learn) as ``DIR/train.csv`` and ``DIR/holdout.csv``, with
the target ``malignant`` (1 = malignant, the positive class of a screening model).

``python -m readiness.examples --shifted SOURCE TARGET`` writes a "production" sample
drawn from SOURCE with a few measurements shifted (a new scanner, say): drift to find.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

TARGET = "malignant"


def breast_cancer(folder: str | Path, holdout: float = 0.3, seed: int = 0) -> dict[str, Path]:
    """Write a stratified train/holdout split of the breast cancer data as CSV files."""
    from sklearn.datasets import load_breast_cancer

    frame = load_breast_cancer(as_frame=True).frame
    frame[TARGET] = 1 - frame.pop("target")  # scikit-learn codes malignant as 0
    return _write_split(frame, folder, holdout, seed, TARGET)


def _write_split(frame: Any, folder: str | Path, holdout: float, seed: int, stratify: str | None):
    from sklearn.model_selection import train_test_split

    train, test = train_test_split(
        frame,
        test_size=holdout,
        random_state=seed,
        stratify=frame[stratify] if stratify else None,
    )
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"train": out / "train.csv", "holdout": out / "holdout.csv"}
    train.to_csv(paths["train"], index=False)
    test.to_csv(paths["holdout"], index=False)
    return paths


def diabetes(folder: str | Path, holdout: float = 0.25, seed: int = 0) -> dict[str, Path]:
    """scikit-learn's diabetes data (regression, target ``progression``) as train/holdout CSV:
    the data ``readiness init --task regression``'s retraining notebook reads."""
    from sklearn.datasets import load_diabetes

    frame = load_diabetes(as_frame=True).frame.rename(columns={"target": "progression"})
    return _write_split(frame, folder, holdout, seed, None)


def wine(folder: str | Path, holdout: float = 0.3, seed: int = 0) -> dict[str, Path]:
    """scikit-learn's wine data (3 classes, target ``cultivar``) as train/holdout CSV:
    the data ``readiness init --task multiclass``'s retraining notebook reads."""
    from sklearn.datasets import load_wine

    frame = load_wine(as_frame=True).frame.rename(columns={"target": "cultivar"})
    return _write_split(frame, folder, holdout, seed, "cultivar")


SHIFTED = {"mean radius": 1.25, "mean perimeter": 1.25, "mean area": 1.5, "mean texture": 1.2}


def shifted_sample(source: str | Path, target: str | Path, seed: int = 1) -> Path:
    """``source`` shuffled, with the ``SHIFTED`` columns scaled: drift with a known cause."""
    import pandas as pd

    frame = pd.read_csv(source).sample(frac=1.0, random_state=seed)
    for column, factor in SHIFTED.items():
        frame[column] = frame[column] * factor
    out = Path(target)
    out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out, index=False)
    return out


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] in ("-h", "--help"):
        print(__doc__)
    elif len(sys.argv) == 4 and sys.argv[1] == "--shifted":
        print(f"production sample: {shifted_sample(sys.argv[2], sys.argv[3])}")
    else:
        target = sys.argv[1] if len(sys.argv) > 1 else "data/breast_cancer"
        for name, path in breast_cancer(target).items():
            print(f"{name}: {path}")
