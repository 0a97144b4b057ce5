"""Example data for the demo, the example notebooks and the tests: nothing is downloaded.

``python -m readiness.examples DIR`` writes scikit-learn's breast cancer data set
(shipped inside scikit-learn) as ``DIR/train.csv`` and ``DIR/holdout.csv``, with
the target ``malignant`` (1 = malignant, the positive class of a screening model).
"""

from __future__ import annotations

import sys
from pathlib import Path

TARGET = "malignant"


def breast_cancer(folder: str | Path, holdout: float = 0.3, seed: int = 0) -> dict[str, Path]:
    """Write a stratified train/holdout split of the breast cancer data as CSV files."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    frame = load_breast_cancer(as_frame=True).frame
    frame[TARGET] = 1 - frame.pop("target")  # scikit-learn codes malignant as 0
    train, test = train_test_split(
        frame, test_size=holdout, random_state=seed, stratify=frame[TARGET]
    )
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"train": out / "train.csv", "holdout": out / "holdout.csv"}
    train.to_csv(paths["train"], index=False)
    test.to_csv(paths["holdout"], index=False)
    return paths


if __name__ == "__main__":
    target = sys.argv[1] if len(sys.argv) > 1 else "data/breast_cancer"
    for name, path in breast_cancer(target).items():
        print(f"{name}: {path}")
