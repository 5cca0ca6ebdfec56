"""R-peak detectors on MIT-BIH, from the checkout: ``ecgseg.bench.detectors`` on the
``../shared`` mirror, writing ``benchmarks/DETECTOR_RESULTS.md`` (see that module's docstring).

    python benchmarks/detector_bench.py [--records 100,119,208] [--skip xqrs] [--repeat 3]
"""

from pathlib import Path

from ecgseg.bench.detectors import main

ROOT = Path(__file__).resolve().parents[1]

if __name__ == "__main__":
    main(default_mitdb=ROOT.parent / "shared" / "physionet" / "files" / "mitdb" / "1.0.0",
         default_out=ROOT / "benchmarks" / "DETECTOR_RESULTS.md")
