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
from geo.analysis import evidence as open_evidence
from geo.analysis import flows, pipeline, sanity
from geo.fetch import sources
from geo.io import exports, ods_reports, recognise
from geo.model import access, errors, settings
from geo.model.errors import InputError
from geo.model.text import counted
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
        print(f"error: {error}{_flag_that_fixes(error)}", file=sys.stderr)
        return 2
    except (FileNotFoundError, IsADirectoryError, PermissionError) as error:
        print(f"error: {error.filename}: {error.strerror}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


# The flag that fixes an InputError whose control geo names (geo.model.errors.CONTROLS).
_FLAGS = {errors.POSTCODE_FILE: "--postcodes"}


def _flag_that_fixes(error: InputError) -> str:
    """' (--postcodes)' after a message whose fix is a flag; '' otherwise."""
    flag = _FLAGS.get(error.control)
    return f" ({flag})" if flag else ""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m geo",
        description="ICS Provider Map: provider sites by sector over ICB boundaries.",
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    _add(commands, "assign", "write every site with its ICB and how it was assigned", _assign)
    _add(commands, "metrics", "write the per-ICB gap metrics", _metrics)
    _add(
        commands, "evidence", "write the evidence of NHS commissioning per site and ICB", _evidence
    )
    _add(commands, "flows", "write patients crossing ICB borders to independent providers", _flows)
    fetch = commands.add_parser("fetch", help="download the official data into the cache")
    fetch.add_argument(
        "--from",
        dest="from_dir",
        type=Path,
        help="take the files from this folder instead of downloading (offline users, CI)",
    )
    fetch.add_argument(
        "--contracts",
        action="store_true",
        help="harvest ICB contract awards (Find a Tender, Contracts Finder) instead; resumable",
    )
    fetch.add_argument(
        "--since",
        metavar="YYYY-MM-DD",
        help="with --contracts: the first day to harvest (default: ICS_FTS_SINCE, ICS_CF_SINCE)",
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
        help="comma-separated: map,filter,upload,geocode,briefing,assign,contracts",
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
        "--source",
        help="provider lists: the named source FILE is (e.g. cqc-directory), added if new, "
        "else its next version; every page sees the union of all sources",
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
    publish.add_argument(
        "--author", help="who publishes, for the audit log (default: ICS_AUTHOR or the OS user)"
    )
    publish.set_defaults(run=_publish)
    versions = commands.add_parser("versions", help="print the audit log of published versions")
    versions.add_argument("--dataset", help="only this dataset")
    versions.set_defaults(run=_versions)
    revert = commands.add_parser("revert", help="make an earlier version current again")
    _add_dataset_or_source(revert, "revert")
    revert.add_argument("--version", required=True, type=_version, help="version to bring back")
    revert.add_argument(
        "--author", help="who reverts, for the audit log (default: ICS_AUTHOR or the OS user)"
    )
    revert.set_defaults(run=_revert)
    withdraw = commands.add_parser(
        "withdraw", help="take a dataset out of use: a new version with no rows, history kept"
    )
    _add_dataset_or_source(withdraw, "withdraw")
    withdraw.add_argument("--author", help="who withdraws (default: ICS_AUTHOR or the OS user)")
    withdraw.set_defaults(run=_withdraw)


def _add_dataset_or_source(command: argparse.ArgumentParser, verb: str) -> None:
    """--dataset NAME or --source NAME (a provider source), one of them required."""
    which = command.add_mutually_exclusive_group(required=True)
    which.add_argument("--dataset", help=f"dataset to {verb}")
    which.add_argument("--source", help=f"provider source to {verb} (e.g. cqc-directory)")


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
        "--population",
        type=Path,
        help="ONS mid-year population workbook, by ICB or by LSOA (with an LSOA --lookup): "
        "adds figures per head",
    )
    command.add_argument(
        "--nhs-trusts",
        type=Path,
        help="ODS etr or ets report: only its trusts' codes make a site NHS by its code",
    )
    _add_geocoding(command)
    _add_evidence(command)
    command.add_argument("--out", type=Path, required=True, help="CSV file to write")
    if name == "evidence":
        command.add_argument(
            "--report", action="store_true", help="write the match report (how each matched)"
        )
    if name == "flows":
        view = command.add_mutually_exclusive_group()
        view.add_argument(
            "--totals", action="store_true", help="write each ICB's totals in and out instead"
        )
        view.add_argument(
            "--matrix", action="store_true", help="write the national ICB x ICB table instead"
        )
    command.set_defaults(run=run)


def _add_evidence(command: argparse.ArgumentParser) -> None:
    """--rtt, --dm01, --contracts, --dspt and --no-cached-evidence (assign, metrics, evidence)."""
    for option, label in (
        ("--rtt", "RTT waiting times full CSV"),
        ("--dm01", "DM01 diagnostics provider-by-commissioner CSV"),
        ("--contracts", "contract awards (Find a Tender / Contracts Finder OCDS JSON)"),
        ("--dspt", "DSPT organisation search export CSV"),
    ):
        command.add_argument(option, type=Path, help=f"evidence of NHS commissioning: {label}")
    command.add_argument(
        "--no-cached-evidence",
        action="store_true",
        help="with no evidence files named, do not use the evidence in the download cache",
    )


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
    "population",
    "rtt",
    "dm01",
    "contracts",
    "dspt",
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
                population=args.population,
                rtt=args.rtt,
                dm01=args.dm01,
                contracts=args.contracts,
                dspt=args.dspt,
                cached_evidence=not args.no_cached_evidence,
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
    print(f"wrote {counted(len(table), 'site')} to {args.out}")
    return 0 if len(table) else 1


def _metrics(args: argparse.Namespace) -> int:
    analysis = _analysis(args)
    _write(args.out, analysis.metrics if analysis.per_head is None else analysis.per_head)
    _print_notes([note.text for note in analysis.notes])
    print(f"wrote {counted(len(analysis.metrics), 'row')} ({analysis.vintage} ICBs) to {args.out}")
    return 0


def _evidence(args: argparse.Namespace) -> int:
    """The evidence table (or, with --report, the match report) as CSV or XLSX."""
    analysis = _analysis(args)
    if args.report:
        table = open_evidence.match_report(analysis.evidence)
    else:
        table = open_evidence.evidence_table(analysis.evidence)
    _write(args.out, table)
    _print_notes([note.text for note in analysis.notes])
    print(f"wrote {len(table):,} rows to {args.out}")
    return 0 if len(table) else 1


def _flows(args: argparse.Namespace) -> int:
    """The flows table (or, with --totals or --matrix, its totals or national matrix)."""
    analysis = _analysis(args)
    if analysis.flows is None:
        raise InputError("flows: no RTT or DM01 file was loaded (name one with --rtt or --dm01)")
    table = analysis.flows
    if args.totals:
        table = flows.flow_totals(table)
    elif args.matrix:
        table = flows.national_matrix(table)
    _write(args.out, table)
    _print_notes([note.text for note in analysis.notes])
    print(f"wrote {len(table):,} rows to {args.out}")
    return 0 if len(table) else 1


def _sanity(args: argparse.Namespace) -> int:
    table = sanity.care_home_beds(args.file)
    print(sanity.sanity_markdown(table))
    print(f"Published shares: {sanity.PUBLISHED_SOURCE}.")
    return 0 if table["care_homes"].iloc[-1] else 1


def _fetch(args: argparse.Namespace) -> int:
    if args.since is not None and not args.contracts:
        raise InputError("--since applies to the contract-award harvest: add --contracts")
    if args.contracts:
        report = sources.fetch_contracts(since=args.since, progress=_print_progress)
    elif args.from_dir is not None:
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
    if args.source is not None:
        if args.kind != "sites" or args.dataset is not None:
            raise InputError(
                "--source names a provider list: use it with --kind sites, not --dataset"
            )
        store.check_source_name(args.source)
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
        print(f"wrote {counted(prepared.counts['rejected'], 'rejected row')} to {args.rejected}")
    if prepared.table.empty:
        print(f"error: {publishing.nothing_to_publish(prepared)}", file=sys.stderr)
        return 1
    version = publishing.publish(
        prepared, published, by=_operator(args), dataset=args.dataset, source=args.source
    )
    print(
        f"published {version.dataset} v{version.version} ({counted(version.rows, 'row')}) by "
        f"{version.author} ({_recorded_as(args)}; the command line does not sign in)"
    )
    if args.kind == "sites":
        sources = published.sources()
        print(f"provider sources every page merges: {', '.join(sources['source'])}")
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


def _named_dataset(published: store.Store, args: argparse.Namespace) -> str:
    """The dataset --dataset names, or the one holding provider source --source."""
    if args.dataset is not None:
        return args.dataset
    dataset = published.source_dataset(store.check_source_name(args.source))
    if dataset is None:
        known = ", ".join(published.sources()["source"]) or "none yet"
        raise InputError(f"no provider source named {args.source}; the sources are: {known}")
    return dataset


def _withdraw(args: argparse.Namespace) -> int:
    operator = _operator(args)
    with store.open_store() as published:
        version = publishing.withdraw(published, _named_dataset(published, args), by=operator)
    print(
        f"{version.dataset} v{version.version}: withdrawn (no rows), by {version.author} "
        f"({_recorded_as(args)}; the command line does not sign in)"
    )
    return 0


def _revert(args: argparse.Namespace) -> int:
    operator = _operator(args)
    with store.open_store() as published:
        version = publishing.revert(
            published, _named_dataset(published, args), args.version, by=operator
        )
    print(
        f"{version.dataset} v{version.version}: back to the rows of v{version.reverted_to} "
        f"({counted(version.rows, 'row')}), by {version.author} "
        f"({_recorded_as(args)}; the command line does not sign in)"
    )
    return 0


def _operator(args: argparse.Namespace) -> access.Identity:
    """Who runs the command, for the audit log: --author, else ICS_AUTHOR, else the
    operating-system user (the command line does not sign in)."""
    return access.operating_system_user(args.author or publishing.default_author())


def _recorded_as(args: argparse.Namespace) -> str:
    """Where the audit log's author came from, said after it."""
    if args.author:
        return "named by --author"
    if settings.get_setting("author").strip():
        return "from ICS_AUTHOR"
    return "the operating-system user"


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
    xlsx = path.suffix.lower() == ".xlsx"
    path.write_bytes(exports.xlsx_bytes(table) if xlsx else exports.csv_bytes(table))
