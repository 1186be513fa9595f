"""Liveness commands of the `facekyc` CLI: check-liveness, score-liveness, eval pad."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from facekyc.cli_output import console, err_console, metrics_table, note_missing, print_error
from facekyc.errors import FaceKycError

if TYPE_CHECKING:
    from facekyc.vision.liveness.passive_types import PassiveScorer
    from facekyc.vision.liveness.types import Challenge


VIDEO_TYPES = {".mp4": "video/mp4", ".m4v": "video/mp4", ".mov": "video/mp4", ".webm": "video/webm"}


def _challenge(text: str) -> list[Challenge]:
    from facekyc.vision.liveness.types import Challenge

    try:
        return [Challenge(c.strip()) for c in text.split(",") if c.strip()]
    except ValueError as exc:
        names = ", ".join(c.value for c in Challenge)
        raise typer.BadParameter(f"{exc}; known: {names}") from exc


def _scorer(name: str) -> PassiveScorer:
    from facekyc.config import Settings
    from facekyc.vision.liveness.passive_backends import passive_from_settings

    if name not in ("cues", "minifasnet"):
        raise typer.BadParameter(f"--passive takes cues or minifasnet, not {name!r}")
    try:
        return passive_from_settings(Settings(passive_backend=name))  # FACEKYC_MINIFASNET_DIR still applies
    except FaceKycError as exc:
        raise typer.BadParameter(exc.message, param_hint="--passive") from exc


PassiveOption = Annotated[str, typer.Option("--passive", help="Passive detector: minifasnet (default, shipped "
                                            "in the package) or cues (hand-made, weak on unseen attacks).")]


def check_liveness_command(
    video: Annotated[Path, typer.Argument(metavar="VIDEO", help="Recorded clip (mp4 or webm).")],
    challenge: Annotated[str, typer.Option("--challenge", help="Steps, e.g. turn_left,turn_right,blink.")],
    start: Annotated[float, typer.Option("--from", help="Use the clip from this second.")] = 0.0,
    end: Annotated[float, typer.Option("--to", help="... up to this second (0: to the end).")] = 0.0,
    fps: Annotated[float, typer.Option("--fps", help="Frames per second to sample.", min=1, max=60)] = 10.0,
    passive: PassiveOption = "minifasnet",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Run the full liveness check on a recorded clip as if captured for CHALLENGE."""
    from facekyc.vision.engine import FaceEngine
    from facekyc.vision.liveness.check import check_liveness
    from facekyc.vision.liveness.video import VideoLimits, decode_file

    steps = _challenge(challenge)
    try:
        if not video.is_file():
            raise FaceKycError(f"cannot read {video}", code="file_not_found", status=400)
        limits = VideoLimits(max_duration_s=600.0, max_frames=10_000, target_fps=fps, max_decoded_frames=100_000)
        frames = decode_file(str(video), limits)
        frames = [f for f in frames if f.t_ms >= start * 1000 and (end <= 0 or f.t_ms <= end * 1000)]
        engine = FaceEngine()
        result = check_liveness(engine, frames, steps, passive=_scorer(passive))
    except FaceKycError as exc:
        print_error(exc, as_json)
        raise typer.Exit(2) from exc
    out = result.to_dict()
    out["frames"] = len(frames)
    out["timings_ms"] = {k: round(v, 1) for k, v in result.timings_ms.items()}
    if as_json:
        console.print_json(json.dumps(out, default=float))
    else:
        colour = "green" if result.live else "red"
        console.print(f"[bold {colour}]{result.decision}[/] {', '.join(r.value for r in result.reasons)}")
        table = Table("step", "performed", "peak", "detail")
        for s in result.steps:
            table.add_row(s.challenge.value, "yes" if s.performed else "[red]no[/red]", f"{s.peak_value:.3f}",
                          s.detail)
        console.print(table)
        console.print(" ".join(f"{k}={v:.3g}" for k, v in result.scores.items()))
    raise typer.Exit(0 if result.live else 1)


def score_liveness_command(
    list_csv: Annotated[Path, typer.Option("--list", help="CSV with a path column (relative or absolute).")],
    out: Annotated[Path, typer.Option("--out", help="Output CSV: input columns + score,decision,error.")],
    passive: PassiveOption = "minifasnet",
) -> None:
    """Passive liveness score per image (higher = more likely live)."""
    from facekyc.vision.engine import FaceEngine
    from facekyc.vision.liveness.pad_eval import resolve, score_list, write_scores

    try:
        engine = FaceEngine()
        fields, rows, results = score_list(engine, _scorer(passive), list_csv)
    except (OSError, ValueError) as exc:
        err_console.print(f"[red]error[/red] {exc}")
        raise typer.Exit(2) from exc
    write_scores(out, fields, rows, results)
    base = Path(os.path.abspath(list_csv.parent))
    note_missing([str(resolve(base, row["path"])) for row, r in zip(rows, results, strict=True)
                  if r.error == "file_not_found"], base)
    live = sum(r.live is True for r in results)
    attack = sum(r.live is False for r in results)
    err_console.print(f"wrote {len(rows)} rows to {out}: {live} live, {attack} attack, "
                      f"{len(rows) - live - attack} error")


def eval_pad_command(
    labels: Annotated[Path, typer.Option("--labels", help="CSV path,label (label live or the attack type).")],
    report: Annotated[Path, typer.Option("--report", help="Folder for summary.json, scores.csv, det.png.")],
    passive: PassiveOption = "minifasnet",
) -> None:
    """ISO/IEC 30107-3 passive PAD report: APCER per attack type, BPCER, ACER, BPCER@APCER, DET."""
    from facekyc.vision.engine import FaceEngine
    from facekyc.vision.liveness.pad_eval import pad_report, score_list, write_scores

    try:
        scorer = _scorer(passive)
        fields, rows, results = score_list(FaceEngine(), scorer, labels)
        if "label" not in fields:
            raise ValueError(f"{labels}: the CSV needs a column named label")
        write_scores(report / "scores.csv", fields, rows, results)
        summary = pad_report([r["label"] for r in rows], [r.score for r in results],
                             float(scorer.threshold), report)
    except (OSError, ValueError) as exc:
        err_console.print(f"[red]error[/red] {exc}")
        raise typer.Exit(2) from exc
    console.print(metrics_table(summary))
    console.print(f"report written to {report}")


def register(app: typer.Typer, eval_app: typer.Typer) -> None:
    """Add the liveness commands to the main CLI."""
    app.command("check-liveness")(check_liveness_command)
    app.command("score-liveness")(score_liveness_command)
    eval_app.command("pad")(eval_pad_command)
