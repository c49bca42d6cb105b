"""The `python -m geo` command line: assign, metrics, fetch, publish, briefings and the benchmark.

Analysts script these commands, so bad input exits non-zero with one clear line
naming the file and the problem, never a traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from geo import workspace
from geo.analysis import pipeline, sanity
from geo.fetch import sources
from geo.io import exports, ods_reports, recognise
from geo.model import settings
from geo.model.errors import InputError
from geo.publish import publishing, validation
from geo.store import versions as store

# The README documented `--sites-format ods` for an NHS ODS report before it was named
# 'nhs_ods'; analysts' scripts may still type it, so it is accepted as an alias.
_SITE_FORMAT_ALIASES = {"ods": "nhs_ods"}
# geo.briefing.documents.FORMATS, named here so that commands other than `briefing` start without matplotlib.
BRIEFING_FORMATS = ("pdf", "pptx")


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command and return its exit code: 0 done, 1 done with nothing usable, 2 bad input."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except (FileNotFoundError, IsADirectoryError, PermissionError) as error:
        print(f"error: {error.filename}: {error.strerror}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m geo",
        description="ICS Provider Map: provider sites by sector over ICB boundaries.",
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    _add(commands, "assign", "write every site with its ICB and how it was assigned", _assign)
    _add(commands, "metrics", "write the per-ICB gap metrics", _metrics)
    fetch = commands.add_parser("fetch", help="download the official data into the cache")
    fetch.add_argument(
        "--from",
        dest="from_dir",
        type=Path,
        help="take the files from this folder instead of downloading (offline users, CI)",
    )
    fetch.set_defaults(run=_fetch)
    brief = commands.add_parser("briefing", help="write a board briefing as PDF or PowerPoint")
    brief.add_argument(
        "--icb",
        required=True,
        metavar="CODE|england|REGION",
        help="an ICB code (E54…), an NHS region code (E40…) or 'england' (as PPTX: the national deck)",
    )
    brief.add_argument("--format", choices=BRIEFING_FORMATS, help="default: from --out's suffix")
    brief.add_argument("--vintage", help="ICB boundary vintage (default: the newest loaded)")
    brief.add_argument("--out", type=Path, required=True, help="file to write")
    brief.set_defaults(run=_briefing)
    _add_publishing(commands)
    sanity = commands.add_parser(
        "sanity",
        help="care-home beds by sector in a CQC file, beside the published national shares",
    )
    sanity.add_argument("file", type=Path, metavar="FILE", help="CQC HSCA active locations file")
    sanity.set_defaults(run=_sanity)
    bench = commands.add_parser(
        "bench", help="measure speed and memory against the targets (docs/benchmarks.md)"
    )
    bench.add_argument(
        "--only",
        metavar="SECTIONS",
        help="comma-separated: map,filter,upload,geocode,briefing,assign",
    )
    bench.add_argument("--quick", action="store_true", help="small sizes: a smoke run of minutes")
    bench.add_argument("--data", type=Path, help="shared data folder (default: ../shared/data)")
    bench.add_argument(
        "--out",
        type=Path,
        help="report to write (default: docs/benchmarks.md for a full run of every section)",
    )
    bench.add_argument(
        "--work", type=Path, help="keep generated files here (default: a temporary folder)"
    )
    bench.set_defaults(run=_bench)
    return parser


def _add_publishing(commands) -> None:
    publish = commands.add_parser(
        "publish", help="check a file and publish what it accepts as a new version"
    )
    publish.add_argument("file", type=Path, metavar="FILE", help="the file to publish")
    publish.add_argument("--kind", required=True, choices=publishing.KINDS, help="what FILE is")
    publish.add_argument(
        "--dataset",
        help="dataset to publish into (default: sites, engagement, boundaries-KIND-YEAR)",
    )
    publish.add_argument(
        "--sites-format",
        type=_site_format,
        choices=recognise.SITE_FORMATS,
        help="format of a provider list (default: recognised)",
    )
    publish.add_argument(
        "--ods-report", help="NHS ODS report FILE is (ets, etr, ephp, ephpsite, epraccur)"
    )
    publish.add_argument("--vintage", help="boundaries: the vintage (year) of the layer")
    _add_geocoding(publish)
    publish.add_argument(
        "--nhs-trusts",
        type=Path,
        help="ODS etr or ets report: only its trusts' codes make a site NHS by its code",
    )
    publish.add_argument("--rejected", type=Path, help="write the rejected rows and reasons here")
    publish.add_argument("--author", help="who publishes (default: ICS_AUTHOR or the OS user)")
    publish.set_defaults(run=_publish)
    versions = commands.add_parser("versions", help="print the audit log of published versions")
    versions.add_argument("--dataset", help="only this dataset")
    versions.set_defaults(run=_versions)
    revert = commands.add_parser("revert", help="make an earlier version current again")
    revert.add_argument("--dataset", required=True, help="dataset to revert")
    revert.add_argument("--version", required=True, type=_version, help="version to bring back")
    revert.add_argument("--author", help="who reverts (default: ICS_AUTHOR or the OS user)")
    revert.set_defaults(run=_revert)


def _add(commands, name: str, help_text: str, run: Callable) -> None:
    command = commands.add_parser(name, help=help_text)
    command.add_argument(
        "--boundaries", type=Path, help="ICB boundary file (GeoJSON, GPKG, zipped Shapefile)"
    )
    command.add_argument(
        "--vintage", help="with no files named: the published (or cached) ICBs of this vintage"
    )
    command.add_argument(
        "--sites", type=Path, help="provider list (with --boundaries; neither: the published data)"
    )
    command.add_argument(
        "--sites-format",
        type=_site_format,
        choices=recognise.SITE_FORMATS,
        help="format of --sites (default: recognised from its content)",
    )
    command.add_argument(
        "--ods-report", help="NHS ODS report the sites file is (ets, etr, ephp, ephpsite, epraccur)"
    )
    command.add_argument(
        "--engagement", type=Path, help="list of providers that take part in ICS planning"
    )
    command.add_argument(
        "--accept-fuzzy",
        type=float,
        metavar="SCORE",
        help="apply approximate name matches scoring at least SCORE (0–100)",
    )
    command.add_argument("--sub-icbs", type=Path, help="sub-ICB location boundaries")
    command.add_argument("--regions", type=Path, help="NHS England region boundaries")
    command.add_argument(
        "--lookup", type=Path, help="sub-ICB → ICB lookup (turns CQC's sub-ICB codes into ICBs)"
    )
    command.add_argument(
        "--code-history",
        type=Path,
        help="ONS Code History Database Changes.csv (maps older CCG/sub-ICB codes to --lookup's)",
    )
    command.add_argument(
        "--sector-rules", type=Path, help="CSV of sector rules overriding the defaults"
    )
    command.add_argument(
        "--nhs-trusts",
        type=Path,
        help="ODS etr or ets report: only its trusts' codes make a site NHS by its code",
    )
    _add_geocoding(command)
    command.add_argument("--out", type=Path, required=True, help="CSV file to write")
    command.set_defaults(run=run)


def _add_geocoding(command: argparse.ArgumentParser) -> None:
    """--geocode and --postcodes, the same for publish, assign and metrics."""
    command.add_argument(
        "--geocode",
        choices=publishing.GEOCODE_CHOICES,
        help="place sites without coordinates by postcode: offline (ONSPD) or online (postcodes.io)",
    )
    command.add_argument(
        "--postcodes",
        type=Path,
        help="ONSPD/NSPL file for --geocode offline (default: ICS_ONSPD_PATH)",
    )


def _version(value: str) -> int:
    """A --version value, checked as the store checks it (no OverflowError for 20 digits)."""
    try:
        return store.version_number(value)
    except InputError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _site_format(value: str) -> str:
    """A --sites-format value, with the old spelling 'ods' read as 'nhs_ods'."""
    return _SITE_FORMAT_ALIASES.get(value, value)


_FILE_ONLY_OPTIONS = (
    "sites_format",
    "ods_report",
    "sub_icbs",
    "regions",
    "lookup",
    "code_history",
    "sector_rules",
    "nhs_trusts",
)


def _analysis(args: argparse.Namespace) -> pipeline.Analysis:
    """From the files named, or, when no files are named, from the data everyone sees."""
    return pipeline.analyse(_geocoded(_frames(args), args), accept_fuzzy_above=args.accept_fuzzy)


def _geocoded(frames: pipeline.Frames, args: argparse.Namespace) -> pipeline.Frames:
    """The frames with sites placed by postcode when --geocode asks, as publishing places them."""
    if args.geocode is None:
        if args.postcodes is not None:
            raise InputError("--postcodes given without --geocode offline")
        return frames
    sites = publishing.geocode_postcodes(frames.sites, args.geocode, args.postcodes)
    _print_notes(publishing.geocode_notes(sites, args.geocode))
    return dataclasses.replace(frames, sites=sites)


def _frames(args: argparse.Namespace) -> pipeline.Frames:
    """The files named, read; else the published (or cached) data, with --engagement's list."""
    if args.boundaries and args.sites:
        return pipeline.load_files(
            pipeline.InputFiles(
                boundaries=args.boundaries,
                sites=args.sites,
                sites_format=args.sites_format,
                ods_report=args.ods_report,
                engagement=args.engagement,
                sub_icbs=args.sub_icbs,
                regions=args.regions,
                lookup=args.lookup,
                sector_rules=args.sector_rules,
                nhs_trusts=args.nhs_trusts,
                code_history=args.code_history,
            )
        )
    named = [
        option for option in ("boundaries", "sites", *_FILE_ONLY_OPTIONS) if getattr(args, option)
    ]
    if named:
        flags = ", ".join("--" + option.replace("_", "-") for option in named)
        raise InputError(
            f"{flags} given without both --boundaries and --sites: name both files, or neither "
            "to use the published data (only --vintage and --engagement combine with it)"
        )
    with store.open_store() as published:
        frames = workspace.load_frames(args.vintage, published)
    return pipeline.replace_engagement(frames, args.engagement) if args.engagement else frames


def _assign(args: argparse.Namespace) -> int:
    analysis = _analysis(args)
    table = analysis.assigned.drop(columns="geometry", errors="ignore")
    _write(args.out, table)
    _print_notes([note.text for note in analysis.notes])
    print(f"wrote {len(table):,} sites to {args.out}")
    return 0 if len(table) else 1


def _metrics(args: argparse.Namespace) -> int:
    analysis = _analysis(args)
    _write(args.out, analysis.metrics)
    _print_notes([note.text for note in analysis.notes])
    print(f"wrote {len(analysis.metrics):,} rows ({analysis.vintage} ICBs) to {args.out}")
    return 0


def _sanity(args: argparse.Namespace) -> int:
    table = sanity.care_home_beds(args.file)
    print(sanity.sanity_markdown(table))
    print(f"Published shares: {sanity.PUBLISHED_SOURCE}.")
    return 0 if table["care_homes"].iloc[-1] else 1


def _fetch(args: argparse.Namespace) -> int:
    if args.from_dir is not None:
        if not args.from_dir.is_dir():
            raise InputError(f"--from {args.from_dir}: not a folder")
        report = sources.fetch_from_dir(args.from_dir)
    else:
        report = sources.fetch_all(progress=_print_progress)
    for entry in report.taken:
        print(f"took    {entry.kind:<13} {entry.vintage or '-':<5} {entry.title}")
    for what, reason in report.failed:
        print(f"failed  {what}: {reason}", file=sys.stderr)
    for name, reason in report.ignored:
        print(f"ignored {name}: {reason}")
    for note in report.notes:
        print(f"note: {note}")
    print(f"cache: {settings.cache_dir()}")
    if report.taken:
        with store.open_store() as published:
            analysed = workspace.store_analyses(published)
        print(f"analysed and stored: {', '.join(analysed) or 'no vintage'}")
    return 0 if report.taken else 1


def _briefing(args: argparse.Namespace) -> int:
    fmt = args.format or args.out.suffix.lstrip(".").lower()
    from geo.briefing import documents as reports

    if fmt not in BRIEFING_FORMATS:
        raise InputError(f"--out {args.out.name}: give --format pdf or pptx (or a .pdf/.pptx name)")
    with store.open_store() as published:
        analysis = workspace.analyse(args.vintage, published)
    document = reports.briefing_document(analysis, args.icb, fmt, progress=_print_progress)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(document)
    print(f"wrote {args.out} ({len(document) / 1e6:.1f} MB, {analysis.vintage} ICBs)")
    return 0


def _publish(args: argparse.Namespace) -> int:
    if args.dataset is not None:  # before reading the file: a wrong name is known at once
        store.check_dataset_name(args.dataset, args.kind)
    with store.open_store() as published:
        return _publish_into(published, args)


def _publish_into(published: store.Store, args: argparse.Namespace) -> int:
    prepared = publishing.prepare(
        args.file,
        args.kind,
        fmt=args.sites_format,
        ods_report=args.ods_report,
        vintage=args.vintage,
        geocode=args.geocode,
        postcode_file=args.postcodes,
        nhs_trusts=ods_reports.read_trust_codes(args.nhs_trusts) if args.nhs_trusts else None,
        store=published,
    )
    print(prepared.summary())
    for line in prepared.rejections():
        print(f"  rejected {line}")
    if prepared.counts["rejected"] > len(prepared.rejections()):
        print(f"  … {prepared.counts['rejected']:,} rejected in all")
    _print_notes(prepared.notes)
    if args.rejected is not None and prepared.report is not None:
        args.rejected.parent.mkdir(parents=True, exist_ok=True)
        args.rejected.write_bytes(validation.rejected_csv(prepared.report))
        print(f"wrote {prepared.counts['rejected']:,} rejected rows to {args.rejected}")
    if prepared.table.empty:
        print(f"error: {publishing.nothing_to_publish(prepared)}", file=sys.stderr)
        return 1
    author = args.author or publishing.default_author()
    version = publishing.publish(prepared, published, author=author, dataset=args.dataset)
    print(
        f"published {version.dataset} v{version.version} ({version.rows:,} rows) by {version.author}"
    )
    return 0


def _versions(args: argparse.Namespace) -> int:
    with store.open_store() as published:
        log = published.versions(args.dataset)
    if log.empty:
        print("nothing has been published yet")
        return 0
    table = log.assign(
        published_at=log["published_at"].dt.strftime("%Y-%m-%d %H:%M UTC"),
        checksum=log["checksum"].str[:12],
        current=log["current"].map({True: "*", False: ""}),
    )
    columns = ["dataset", "version", "action", "author", "published_at", "file_name", "checksum"]
    columns += ["rows", "accepted", "warned", "rejected", "reverted_to", "current"]
    shown = table[columns].astype(object)
    print(shown.where(shown.notna(), "").to_string(index=False))
    return 0


def _revert(args: argparse.Namespace) -> int:
    author = args.author or publishing.default_author()
    with store.open_store() as published:
        version = published.revert(args.dataset, args.version, author=author)
    print(
        f"{version.dataset} v{version.version}: back to the rows of v{version.reverted_to} "
        f"({version.rows:,} rows), by {version.author}"
    )
    return 0


def _bench(args: argparse.Namespace) -> int:
    from geo.bench import run as bench

    options = bench.BenchOptions(
        data=args.data or bench.DEFAULT_DATA,
        only=bench.parse_only(args.only),
        quick=args.quick,
        out=args.out or (bench.DEFAULT_OUT if not (args.quick or args.only) else None),
        work=args.work,
    )
    command = " ".join(
        ["python -m geo bench"]
        + (["--quick"] if args.quick else [])
        + ([f"--only {args.only}"] if args.only else [])
        + ([f"--data {args.data}"] if args.data else [])
    )
    sections = bench.run_bench(options, command)
    return 1 if bench.failed(sections) else 0


def _print_progress(done: int, total: int | None) -> None:
    print(f"  {done:,}" + (f" of {total:,}" if total else ""), file=sys.stderr)


def _print_notes(notes: Sequence[str]) -> None:
    for note in notes:
        print(f"note: {note}", file=sys.stderr)


def _write(path: Path, table) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(exports.csv_bytes(table))
