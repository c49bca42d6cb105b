"""Fetch ONS mid-year population estimates: the ICB workbook and the LSOA single-year-of-age one.

Each ONS dataset page links its editions' files as `/file?uri=/…/sapeicb20222024.xlsx`;
the newest is the one whose name ends in the latest year (`…20222024` covers mid-2022 to
mid-2024). Pages are those of setting ICS_POPULATION_PAGES. The file is checked to be a
population workbook (a sheet per year, `Mid-2024 ICB 2024`) before it is recorded.
"""

from __future__ import annotations

import re
import urllib.parse
from pathlib import Path

from geo.fetch.catalogue import CacheEntry
from geo.fetch.http import SourceError, download, get_url
from geo.fetch.sources import LinkParser, check_is, store_download
from geo.model import settings
from geo.model.progress import Progress

# sapeicb20222024.xlsx, sapelsoasyoa20222024.xlsx: the estimates' first and last mid-years.
_FILE = re.compile(r"(sape(?:icb|lsoasyoa))\d*?(\d{4})(\d{4})\.xlsx$", re.IGNORECASE)
WHAT = "ONS mid-year population estimates"


def fetch_population(
    name: str, pages: str | None = None, *, progress: Progress | None = None
) -> CacheEntry:
    """Download the newest `name` workbook ('sapeicb' or 'sapelsoasyoa') linked from the ONS
    dataset pages (setting ICS_POPULATION_PAGES) and record it."""
    file_url = newest_population_link(
        name, (pages or settings.get_setting("population_pages")).split()
    )
    folder = settings.cache_dir() / "population"
    partial = download(file_url, folder, WHAT, progress, suffix=".xlsx")
    file_name = Path(urllib.parse.unquote(file_url).split("?uri=")[-1]).name
    try:
        found = check_is(partial, "population", "", WHAT)
        return store_download(
            partial,
            folder,
            kind="population",
            vintages=found.vintages,
            title=file_name,
            source_url=file_url,
            publisher=found.publisher,
            name=file_name,
        )[0]
    finally:
        partial.unlink(missing_ok=True)


def newest_population_link(name: str, pages: list[str]) -> str:
    """The absolute URL of the `name` workbook with the latest years linked from the pages."""
    found, tried = [], []
    for page_url in pages:
        try:
            page = get_url(page_url, WHAT, consume=lambda response: response.read())
        except SourceError as error:
            tried.append(str(error))
            continue
        parser = LinkParser()
        parser.feed(page.decode("utf-8", "replace"))
        for href, _text in parser.links:
            match = _FILE.search(urllib.parse.unquote(href).split("?uri=")[-1])
            if match and match.group(1).casefold() == name.casefold():
                found.append((match.group(3), match.group(2), urllib.parse.urljoin(page_url, href)))
    if not found:
        raise SourceError(
            f"{WHAT}: no page links a {name}….xlsx workbook ({'; '.join(tried) or ', '.join(pages)}); "
            "the pages may have changed: download the workbook by hand and run "
            "`python -m geo fetch --from DIR`"
        )
    return max(found)[2]
