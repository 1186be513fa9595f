"""The `facekyc` command line: compare, score-pairs, eval, serve, keys, audit ..."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from facekyc.cli_output import console, err_console, note_missing, print_error, progress_bar, quality_table
from facekyc.errors import FaceKycError

app = typer.Typer(help="facekyc: face-verified SIM registration, open and self-hosted.", no_args_is_help=True,
                  rich_markup_mode=None)  # Click's plain help: Typer's Rich panels label every flag <bool>
eval_app = typer.Typer(help="Evaluation reports (ISO/IEC 19795-1, 30107-3).", no_args_is_help=True)
app.add_typer(eval_app, name="eval")

from facekyc.api.commands import register as _register_service_commands  # noqa: E402  (serve, db, keys, ...)

_register_service_commands(app)

from facekyc.cli_liveness import register as _register_liveness_commands  # noqa: E402  (check-liveness, ...)

_register_liveness_commands(app, eval_app)

from facekyc.api.commands import keys_app as _keys_app  # noqa: E402
from facekyc.cli_index import register as _register_index_commands  # noqa: E402  (index sync, keys rotate-transform)

_register_index_commands(app, _keys_app)

from facekyc.cli_operators import register as _register_operator_commands  # noqa: E402  (operators, numbers)

_register_operator_commands(app)

from facekyc.cli_templates import register as _register_template_commands  # noqa: E402  (templates status, migrate)

_register_template_commands(app)

FmrOption = Annotated[float, typer.Option("--fmr", help="Operating point as a false match rate (1e-2..1e-5).",
                                          min=1e-5, max=1e-2)]



@app.command()
def compare(
    image_a: Annotated[Path, typer.Argument(metavar="IMAGE_A", help="First image (e.g. the ID photo).")],
    image_b: Annotated[Path, typer.Argument(metavar="IMAGE_B", help="Second image (e.g. the live capture).")],
    fmr: FmrOption = 1e-3,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Refuse images with several faces of similar size "
                                         "(default: use the largest, most central face).")] = False,
) -> None:
    """Compare two face images 1:1 at a stated false match rate."""
    from facekyc.vision.engine import FaceEngine
    from facekyc.vision.fmr_words import explain_score, fmr_floor

    try:
        engine = FaceEngine()
        analyses = []
        for path in (image_a, image_b):
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise FaceKycError(f"cannot read {path}", code="file_not_found", status=400) from exc
            try:
                analyses.append(engine.analyse(data, policy="single" if strict else "primary"))
            except FaceKycError as exc:
                exc.message = f"{path}: {exc.message}"
                raise
        result = engine.compare(analyses[0], analyses[1], fmr=fmr)
    except FaceKycError as exc:
        print_error(exc, as_json)
        raise typer.Exit(2) from exc
    words = explain_score(result.score, result.threshold, result.estimated_fmr, fmr_floor(engine.scorer))
    if as_json:
        console.print_json(json.dumps({**result.to_dict(), "margin": words.margin, "fmr_words": words.fmr_words}))
        return
    colour = "green" if result.decision == "match" else "red"
    side = "above" if words.margin >= 0 else "below"
    console.print(f"[bold {colour}]{result.decision}[/]  score {result.score:.3f}, {abs(words.margin):.3f} {side} "
                  f"the threshold {result.threshold:.3f} (set for a false match rate of {result.fmr_target:g})")
    console.print(f"estimated false match rate at this score {result.estimated_fmr:.1e}: {words.fmr_words} "
                  "comparisons of two different people score this high")
    qa, qb = analyses[0].quality, analyses[1].quality
    console.print(quality_table(qa, qb, str(image_a.name), str(image_b.name)))
    for hint in dict.fromkeys(qa.hints + qb.hints):
        console.print(f"[yellow]hint[/yellow] {hint}")


@app.command("score-pairs")
def score_pairs(
    pairs_csv: Annotated[Path, typer.Argument(metavar="PAIRS_CSV",
                                              help="CSV with columns a,b (image paths; others kept).")],
    out: Annotated[Path, typer.Option("--out", help="Output CSV: input columns + score,decision,error.")],
    workers: Annotated[int, typer.Option("--workers", min=0, help="Processes (0: all cores).")] = 0,
    fmr: FmrOption = 1e-3,
    models: Annotated[str, typer.Option("--models", help="Recognisers: sface,dlib (fused, default) or sface "
                                        "(fast) or dlib.")] = "sface,dlib",
) -> None:
    """Score a list of image pairs on all cores (the interface evaluators use on their own data); the fused
    default runs dlib only for pairs SFace cannot decide alone (the cascade)."""
    from facekyc.vision.batch import analyse_for_pairs
    from facekyc.vision.calibration import Calibration
    from facekyc.vision.engine import Scorer

    try:
        with pairs_csv.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            fields = list(reader.fieldnames or [])
            rows = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        err_console.print(f"[red]error[/red] cannot read {pairs_csv}: {exc}")
        raise typer.Exit(2) from exc
    if "a" not in fields or "b" not in fields:
        err_console.print("[red]error[/red] the CSV needs columns named a and b")
        raise typer.Exit(2)
    model_names = _parse_models(models)
    base = Path(os.path.abspath(pairs_csv.parent))  # relative paths: from the list's folder, not the current one
    resolve = {p: str(p if Path(p).is_absolute() else base / p) for r in rows for p in (r["a"], r["b"])}
    scorer = Scorer(Calibration.load(), model_names)  # scoring needs only the calibration, not the models
    with progress_bar() as progress:
        task = progress.add_task("analysing images", total=len(set(resolve.values())))
        results = analyse_for_pairs([(resolve[r["a"]], resolve[r["b"]]) for r in rows], scorer,
                                    workers=workers or None, models=model_names,
                                    progress=lambda n: progress.advance(task, n))
    out_fields = [*fields, *[c for c in ("score", "decision", "error") if c not in fields]]
    counts = {"match": 0, "non_match": 0, "error": 0}
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=out_fields)
        writer.writeheader()
        for row in rows:
            ra, rb = results[resolve[row["a"]]], results[resolve[row["b"]]]
            error = ra.error or rb.error
            if error or ra.embeddings is None or rb.embeddings is None:
                row.update(score="", decision="", error=error or "unknown")
                counts["error"] += 1
            else:
                result = scorer.compare(ra.embeddings, rb.embeddings, fmr=fmr)
                row.update(score=f"{result.score:.6f}", decision=result.decision, error="")
                counts[result.decision] += 1
            writer.writerow(row)
    err_console.print(f"wrote {len(rows)} rows to {out}: {counts['match']} match, "
                      f"{counts['non_match']} non_match, {counts['error']} error")
    note_missing([p for p, r in results.items() if r.error == "file_not_found"], base)


def _parse_models(text: str) -> list[str]:
    """The --models list, checked against the recognisers we ship."""
    names = [m.strip() for m in text.split(",") if m.strip()]
    if not names or any(m not in ("sface", "dlib") for m in names):
        err_console.print(f"[red]error[/red] --models takes sface, dlib or sface,dlib (got {text!r})")
        raise typer.Exit(2)
    return names


@eval_app.command("verification")
def eval_verification(
    pairs: Annotated[Path, typer.Option("--pairs", help="Pair list: LFW pairs file or CSV (a,b,same).")],
    report: Annotated[Path, typer.Option("--report", help="Folder for summary.json, scores.csv, det.png.")],
    root: Annotated[Path | None, typer.Option("--root", help="Folder relative image paths are read from (LFW: the "
                                              "folder of <Name>/ folders, default images/ beside the pairs file; "
                                              "CSV: default the CSV's own folder).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="lfw or csv.")] = "lfw",
    workers: Annotated[int, typer.Option("--workers", min=0, help="Processes (0: all cores).")] = 0,
) -> None:
    """ISO/IEC 19795-1 style verification report: accuracy, EER, FNMR@FMR, FTA and a DET curve."""
    from facekyc.evaluation.report import describe_verification, verification_report

    try:
        summary = verification_report(pairs, root, report, fmt=fmt, workers=workers or None,
                                      progress_factory=progress_bar)
    except (ValueError, OSError) as exc:
        err_console.print(f"[red]error[/red] {exc}")
        raise typer.Exit(2) from exc
    table = Table("metric", "value")
    for what, value in describe_verification(summary):
        table.add_row(what, value)
    console.print(table)
    if summary["failed_images"]:
        err_console.print(f"[yellow]note[/yellow] {summary['failed_images']} image(s) failed (missing or no usable "
                          f"face): failed_image_paths in {report / 'summary.json'}")
    console.print(f"report written to {report} (summary.json, scores.csv, det.png)")


if __name__ == "__main__":
    app()
