"""The command-line contract over every format, on a few hundred seeded damaged files.

Every damaged variant (``tests/io_fuzz.py``) goes through ``motionlab data inspect`` and, for motion
formats, ``motionlab data convert``: a file that must be refused exits 2 with exactly one line,
``motionlab: error: FILE: PLACE: PROBLEM``, without a raw library exception in it; a file that may be
valid either reads (no NaN/inf in the summary or in the converted file) or is refused the same way;
never a traceback. Valid files that naive readers refuse must read.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from io_fuzz import check_cli_contract, cli_variants, run_cli, valid_files


@pytest.fixture(scope="module")
def fuzz_set(tmp_path_factory):
    folder = tmp_path_factory.mktemp("io_fuzz")
    files = valid_files(folder / "good")
    return files, cli_variants(files, folder / "bad", np.random.default_rng(8)), folder


def test_valid_files_read(fuzz_set):
    files, _, _ = fuzz_set
    for fmt, path in files.items():
        rc, out, err = run_cli(["data", "inspect", str(path)])
        assert rc == 0, (fmt, err)
        assert "motionlab: note" not in err


def test_every_damaged_file_gets_one_clear_line(fuzz_set):
    files, variants, folder = fuzz_set
    assert len(variants) >= 300
    outcomes: Counter = Counter()
    refused_formats = set()
    for v in variants:
        runs = [["data", "inspect", str(v.path)]]
        if v.convert_to:
            runs.append(["data", "convert", str(v.path), str(folder / f"out{v.convert_to}")])
        for argv in runs:
            result = check_cli_contract(argv, v.path, v.bad)
            outcomes[(v.bad, result)] += 1
            if result == "error":
                refused_formats.add(v.path.suffix.lower())
    # every must-refuse variant was refused (check_cli_contract asserts it); both outcomes occur
    assert outcomes[(True, "error")] >= 150
    assert outcomes[(None, "error")] > 0 and outcomes[(False, "ok")] >= 2
    assert refused_formats >= {".bvh", ".npz", ".csv", ".pkl", ".json", ".wav", ".textgrid"}
