"""Readers for verification pair lists: LFW pair files and simple CSVs.

They only resolve paths and labels; whether the images exist is the caller's concern.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["LABEL_COLUMNS", "Pair", "read_csv_pairs", "read_lfw_pairs"]

LABEL_COLUMNS: tuple[str, ...] = ("same", "label", "is_same")
_TRUE = frozenset({"1", "true", "same", "yes"})
_FALSE = frozenset({"0", "false", "different", "no"})


@dataclass(frozen=True)
class Pair:
    """Two images to compare; `same` is None when the ground truth is unknown."""

    a: Path
    b: Path
    same: bool | None
    fold: int | None = None
    extra: dict[str, str] = field(default_factory=dict, hash=False)


def lfw_image_path(root: Path, name: str, index: int) -> Path:
    """LFW layout: <root>/<name>/<name>_<NNNN>.jpg with a 1-based, 4-digit index."""
    return root / name / f"{name}_{index:04d}.jpg"


def read_lfw_pairs(path: Path, images_root: Path | None = None) -> list[Pair]:
    """Parse an LFW pairs file (View 1 `pairsDevTrain/DevTest.txt` or View 2 `pairs.txt`).

    Header `n`: n matched lines ("name i j") then n mismatched ("name1 i name2 j"), no folds.
    Header `folds n`: `folds` blocks of n matched + n mismatched lines; each Pair gets its fold.
    Images are looked up under `images_root`, by default the `images` folder beside the file.
    """
    path = Path(path)
    root = path.parent / "images" if images_root is None else Path(images_root)
    lines = [(no, line.split()) for no, line in enumerate(path.read_text().splitlines(), 1)]
    lines = [(no, fields) for no, fields in lines if fields]
    if not lines:
        raise ValueError(f"{path}: empty pairs file")
    header_no, header = lines[0]
    counts = _parse_header(path, header_no, header)
    n_folds, per_fold = (None, counts[0]) if len(counts) == 1 else (counts[0], counts[1])
    body = lines[1:]
    expected = (n_folds or 1) * 2 * per_fold
    if len(body) != expected:
        raise ValueError(f"{path}: header promises {expected} pairs but the file has {len(body)}")

    pairs: list[Pair] = []
    for position, (no, fields) in enumerate(body):
        block, offset = divmod(position, 2 * per_fold)
        should_match = offset < per_fold
        if len(fields) == 3:
            name, i, j = fields
            pair = Pair(
                lfw_image_path(root, name, _index(path, no, i)),
                lfw_image_path(root, name, _index(path, no, j)),
                True,
                block if n_folds else None,
            )
        elif len(fields) == 4:
            name1, i, name2, j = fields
            pair = Pair(
                lfw_image_path(root, name1, _index(path, no, i)),
                lfw_image_path(root, name2, _index(path, no, j)),
                False,
                block if n_folds else None,
            )
        else:
            raise ValueError(f"{path}:{no}: expected 'name i j' or 'name1 i name2 j', got {len(fields)} fields")
        if pair.same != should_match:
            kind = "matched ('name i j')" if should_match else "mismatched ('name1 i name2 j')"
            raise ValueError(f"{path}:{no}: expected a {kind} pair at this position")
        pairs.append(pair)
    return pairs


def _parse_header(path: Path, no: int, fields: list[str]) -> list[int]:
    """Header is `n` or `folds n`, all positive integers."""
    try:
        counts = [int(f) for f in fields]
    except ValueError:
        counts = []
    if len(counts) not in (1, 2) or min(counts) < 1:
        raise ValueError(f"{path}:{no}: expected a header 'n' or 'folds n', got {' '.join(fields)!r}")
    return counts


def _index(path: Path, no: int, text: str) -> int:
    """LFW image numbers are 1-based integers."""
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{path}:{no}: image number {text!r} is not an integer") from None
    if value < 1:
        raise ValueError(f"{path}:{no}: image number {value} must be >= 1")
    return value


def parse_same(text: str) -> bool | None:
    """'1/true/same/yes' -> True, '0/false/different/no' -> False, '' -> None (unknown)."""
    value = text.strip().lower()
    if not value:
        return None
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"label {text!r} is not one of 1/0/true/false/same/different")


def read_csv_pairs(path: Path, images_root: Path | None = None) -> tuple[list[Pair], list[str]]:
    """Read a CSV with columns a, b, optionally same/label/is_same and fold, plus any others.

    Relative image paths are resolved against `images_root`, by default the CSV's own folder (never
    the current directory, so a list means the same wherever it is run from). The first label column found
    (in the order same, label, is_same) gives `Pair.same`; an integer `fold` column gives
    `Pair.fold`; every other column is kept in `Pair.extra` in file order. Returns the pairs
    and the header's field names.
    """
    path = Path(path)
    base = Path(os.path.abspath(images_root if images_root is not None else path.parent))
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle, skipinitialspace=True)
        fieldnames = [name.strip() for name in (reader.fieldnames or [])]
        missing = [c for c in ("a", "b") if c not in fieldnames]
        if missing:
            raise ValueError(f"{path}:1: missing required column(s) {', '.join(missing)}")
        if len(set(fieldnames)) != len(fieldnames):
            raise ValueError(f"{path}:1: duplicate column names in header")
        reader.fieldnames = fieldnames
        label_col = next((c for c in LABEL_COLUMNS if c in fieldnames), None)
        used = {"a", "b", "fold", label_col}
        pairs: list[Pair] = []
        for row in reader:
            no = reader.line_num
            if None in row:
                raise ValueError(f"{path}:{no}: more values than header columns")
            values = {k: (v or "").strip() for k, v in row.items() if k is not None}
            if not any(values.values()):
                continue
            if not values["a"] or not values["b"]:
                raise ValueError(f"{path}:{no}: empty image path in column a or b")
            try:
                same = parse_same(values[label_col]) if label_col else None
            except ValueError as exc:
                raise ValueError(f"{path}:{no}: {exc}") from None
            fold: int | None = None
            if values.get("fold"):
                try:
                    fold = int(values["fold"])
                except ValueError:
                    raise ValueError(f"{path}:{no}: fold {values['fold']!r} is not an integer") from None
            extra = {k: v for k, v in values.items() if k not in used}
            pairs.append(Pair(base / values["a"], base / values["b"], same, fold, extra))
    return pairs, fieldnames
