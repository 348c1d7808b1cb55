#!/usr/bin/env python3
"""Writes the confidence bands Swiss shows beside a winner: how often SWE-Swiss's selected patch
resolved the issue, by the share of the 40 samples the winning patch holds.

Usage: bands.py SWE_SWISS_CHECKOUT COMMIT > server/src/job/confidence_bands.json

SWE_SWISS_CHECKOUT is a work tree of github.com/zhenyuhe00/SWE-Swiss at COMMIT (the commit is
only written into the output, to name the source). Its results/40patches_results{0,1,2}.tar.gz
are read in place (or the same directories already extracted under results/): three runs of
SWE-Swiss-32B on SWE-bench Verified, 40 samples an issue, one score_final.json per issue with the
selected patch's index, every surviving patch's vote count (`votes`, the samples with the same
normalized patch) and whether it resolved the issue (`score`).

An issue a run has no score_final.json for is left out of that run: it has no winner, so no share.
"""

import json
import pathlib
import sys
import tarfile

REPOSITORY = "github.com/zhenyuhe00/SWE-Swiss"
RUNS = [f"results/40patches_results{i}" for i in range(3)]
SAMPLES = 40
# Lowest share of each band, highest band first; Swiss compares votes >= min_share * samples.
BANDS = [("high", 0.5), ("medium", 0.25), ("low", 0.0)]


def score_files(checkout, run):
    """Every score_final.json of one run, as parsed JSON."""
    extracted = checkout / run
    if extracted.is_dir():
        for path in sorted(extracted.glob("*/score_final.json")):
            yield json.loads(path.read_text())
        return
    with tarfile.open(checkout / f"{run}.tar.gz") as archive:
        for member in sorted(archive.getmembers(), key=lambda m: m.name):
            if member.isfile() and member.name.endswith("/score_final.json"):
                yield json.load(archive.extractfile(member))


def band_of(share):
    return next(name for name, lowest in BANDS if share >= lowest)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    checkout, commit = pathlib.Path(sys.argv[1]), sys.argv[2]
    counts = {name: [0, 0] for name, _ in BANDS}
    for run in RUNS:
        for result in score_files(checkout, run):
            votes = result["votes"][str(result["model_patch_index"])]
            band = counts[band_of(votes / SAMPLES)]
            band[0] += int(result["score"])
            band[1] += 1
    json.dump(
        {
            "source": {
                "repository": REPOSITORY,
                "commit": commit,
                "paths": [f"{run}.tar.gz" for run in RUNS],
                "what": "SWE-Swiss-32B on SWE-bench Verified, 3 runs of 40 samples an issue",
            },
            "samples": SAMPLES,
            "bands": [
                {
                    "band": name,
                    "min_share": lowest,
                    "resolved": counts[name][0],
                    "issues": counts[name][1],
                }
                for name, lowest in BANDS
            ],
        },
        sys.stdout,
        indent=2,
    )
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
