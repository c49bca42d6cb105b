"""docs/sanity.md: the national sanity table run on a full-size, synthetic CQC-shaped file.

`python -m geo.bench.sanity` writes 57,000 CQC rows (geo.testing.publisher_files,
`make_cqc_national_rows`) as CQC's CSV, runs the same `geo.analysis.sanity` table that
`python -m geo sanity FILE` prints for a real file, and writes the page. The rows are
synthetic, so the page checks the machinery, not England.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Sequence
from pathlib import Path

from geo.analysis import sanity
from geo.model.settings import PROJECT_DIR
from geo.testing.publisher_files import make_cqc_national_rows, write_cqc_hsca_csv

ROWS = 57_000  # about as many locations as CQC's monthly file lists
DEFAULT_OUT = PROJECT_DIR / "docs" / "sanity.md"
FILE_NAME = "HSCA_Active_Locations.csv"


def write_sanity_doc(out: Path = DEFAULT_OUT, rows: int = ROWS) -> Path:
    """Write the synthetic CQC file, compute its table, and write the page to `out`."""
    with tempfile.TemporaryDirectory(prefix="ics-sanity-") as work:
        path = write_cqc_hsca_csv(Path(work) / FILE_NAME, make_cqc_national_rows(rows))
        table = sanity.care_home_beds(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(_page(sanity.sanity_markdown(table), rows), encoding="utf-8")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m geo.bench.sanity [--rows N] [--out FILE]`."""
    parser = argparse.ArgumentParser(prog="python -m geo.bench.sanity", description=__doc__)
    parser.add_argument("--rows", type=int, default=ROWS, help=f"CQC rows to write ({ROWS:,})")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="page to write")
    args = parser.parse_args(argv)
    print(f"wrote {write_sanity_doc(args.out, args.rows)}")
    return 0


def _page(table: str, rows: int) -> str:
    return f"""# National sanity table: care-home beds by sector

**These figures come from synthetic rows, not from CQC's register.** No real CQC file is on
the machine this page was made on, so it was made from {rows:,} CQC-shaped rows written by
`geo/testing/publisher_files.py` (`make_cqc_national_rows`): every one of CQC's 122 columns,
a quarter of the locations care homes, run by a private company, a registered charity or a
council in a mix chosen to look roughly national. The comparison below therefore only checks
the machinery (the CQC reader, the sector rules and the sums every map and briefing use, end to
end, at full size); how close the shares are to the published ones says nothing about England.

Published shares: {sanity.PUBLISHED_SOURCE}.

{table}
`tests/test_sanity.py` checks that the table's counts and beds are exactly those the rows were
written with, for each kind of owner.

## Run it on the real file

Download CQC's monthly "Care directory with filters" (HSCA active locations, linked from
<https://www.cqc.org.uk/about-us/transparency/using-cqc-data>; `python -m geo fetch` puts it in
the cache) and run:

```
python -m geo sanity 01_May_2026_HSCA_Active_Locations.ods
```

It prints the same table from the real rows. Care homes are the rows CQC marks
`Care home? = Y`; beds are `Care homes beds`; sectors come from the sector rules in the README,
so a voluntary share well below 13% or a local-authority share far from 3% points at a rule to
check. To make this page again from synthetic rows: `python -m geo.bench.sanity`.
"""


if __name__ == "__main__":
    raise SystemExit(main())
