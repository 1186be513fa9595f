"""Pair-list readers: LFW pair files (both header styles) and CSV lists."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from facekyc.evaluation import Pair, read_csv_pairs, read_lfw_pairs, stratified_fold_ids

VIEW1 = "2\nAlice\t1\t2\nBob 3 12\nAlice\t1\tBob\t3\nCarol 10 Dave 1\n"
VIEW2 = "2\t1\nAlice\t1\t2\nAlice\t1\tBob\t3\nBob\t3\t4\nCarol\t1\tDave\t2\n"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_read_lfw_view1(tmp_path: Path) -> None:
    pairs = read_lfw_pairs(write(tmp_path, "pairsDevTest.txt", VIEW1))
    root = tmp_path / "images"
    assert pairs == [
        Pair(root / "Alice/Alice_0001.jpg", root / "Alice/Alice_0002.jpg", True, None),
        Pair(root / "Bob/Bob_0003.jpg", root / "Bob/Bob_0012.jpg", True, None),
        Pair(root / "Alice/Alice_0001.jpg", root / "Bob/Bob_0003.jpg", False, None),
        Pair(root / "Carol/Carol_0010.jpg", root / "Dave/Dave_0001.jpg", False, None),
    ]


def test_read_lfw_view2_folds_and_root(tmp_path: Path) -> None:
    pairs = read_lfw_pairs(write(tmp_path, "pairs.txt", VIEW2), images_root=tmp_path / "lfw")
    assert [p.fold for p in pairs] == [0, 0, 1, 1]
    assert [p.same for p in pairs] == [True, False, True, False]
    assert pairs[3].b == tmp_path / "lfw" / "Dave" / "Dave_0002.jpg"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2\nA 1 2\nB 1 2 3 4 5\nA 1 B 1\nC 1 D 1\n", r"pairs\.txt:3: expected 'name i j'"),
        ("2\nA 1 2\nB 1 x\nA 1 B 1\nC 1 D 1\n", r"pairs\.txt:3: image number 'x'"),
        ("2\nA 1 2\nB 1 0\nA 1 B 1\nC 1 D 1\n", r"pairs\.txt:3: image number 0"),
        ("2\nA 1 2\nA 1 B 1\nB 1 2\nC 1 D 1\n", r"pairs\.txt:3: expected a matched"),
        ("2\nA 1 2\nB 1 2\nA 1 B 1\n", r"promises 4 pairs but the file has 3"),
        ("A 1 2\n", r"pairs\.txt:1: expected a header"),
        ("", r"empty pairs file"),
    ],
)
def test_read_lfw_malformed(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        read_lfw_pairs(write(tmp_path, "pairs.txt", text))


def test_read_csv_pairs(tmp_path: Path) -> None:
    absolute = tmp_path / "elsewhere" / "x.jpg"
    text = (
        "a,b,site,same,fold,note\n"
        f"img/1.jpg,img/2.jpg,Nairobi,1,0,first\n"
        f"{absolute},img/3.jpg,Kisumu,different,1,\n"
        "\n"
        "img/4.jpg,img/5.jpg,Mombasa,,1,unlabelled\n"
    )
    pairs, fields = read_csv_pairs(write(tmp_path, "pairs.csv", text))
    assert fields == ["a", "b", "site", "same", "fold", "note"]
    assert pairs[0] == Pair(
        tmp_path / "img/1.jpg", tmp_path / "img/2.jpg", True, 0, {"site": "Nairobi", "note": "first"}
    )
    assert pairs[1].a == absolute and pairs[1].same is False and pairs[1].fold == 1
    assert pairs[2].same is None
    assert list(pairs[0].extra) == ["site", "note"]


@pytest.mark.parametrize("column", ["label", "is_same"])
def test_read_csv_label_aliases(tmp_path: Path, column: str) -> None:
    text = f"a,b,{column}\nx.jpg,y.jpg,TRUE\nx.jpg,z.jpg,0\nx.jpg,w.jpg,same\n"
    pairs, _ = read_csv_pairs(write(tmp_path, "p.csv", text))
    assert [p.same for p in pairs] == [True, False, True]
    assert pairs[0].extra == {}


def test_read_csv_without_labels(tmp_path: Path) -> None:
    pairs, _ = read_csv_pairs(write(tmp_path, "p.csv", "b,a\nsub/y.jpg,sub/x.jpg\n"))
    assert pairs == [Pair(tmp_path / "sub/x.jpg", tmp_path / "sub/y.jpg", None)]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a,same\nx.jpg,1\n", r"p\.csv:1: missing required column\(s\) b"),
        ("a,b,same\nx.jpg,y.jpg,1\nx.jpg,y.jpg,maybe\n", r"p\.csv:3: label 'maybe'"),
        ("a,b\nx.jpg,y.jpg\n,y.jpg\n", r"p\.csv:3: empty image path"),
        ("a,b\nx.jpg,y.jpg,z.jpg\n", r"p\.csv:2: more values"),
        ("a,b,fold\nx.jpg,y.jpg,one\n", r"p\.csv:2: fold 'one'"),
    ],
)
def test_read_csv_malformed(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        read_csv_pairs(write(tmp_path, "p.csv", text))


def test_pair_is_hashable() -> None:
    pair = Pair(Path("a"), Path("b"), True, None, {"k": "v"})
    assert pair in {pair}


def test_real_lfw_devtest() -> None:
    data = os.environ.get("FACEKYC_TEST_DATA")
    if not data:
        pytest.skip("FACEKYC_TEST_DATA is not set (path to the shared data folder)")
    path = Path(data) / "lfw-view1" / "pairsDevTest.txt"
    if not path.is_file():
        pytest.skip(f"{path} is missing")
    pairs = read_lfw_pairs(path)
    assert len(pairs) == 1000
    assert sum(p.same is True for p in pairs) == 500
    missing = [p for p in pairs for image in (p.a, p.b) if not image.is_file()]
    assert not missing, f"{len(missing)} image(s) missing, e.g. {missing[0]}"
    labels = np.array([p.same for p in pairs], dtype=bool)
    ids = stratified_fold_ids(labels, 10)
    assert all(np.count_nonzero(labels[ids == k]) == 50 for k in range(10))
