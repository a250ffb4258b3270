"""The command line: parses options, calls the API, prints; every OnnxFpgmError becomes one line and an exit code."""

from __future__ import annotations

import csv
import io as _io
import json
import os
import sys
from dataclasses import asdict, replace
from functools import wraps
from pathlib import Path
from typing import Any, Callable, TypeVar

import click

from . import __version__
from .config import CRITERIA, DEVICES, DISTANCES, PruneConfig, parse_input_shape, parse_layer_ratio
from .errors import OnnxFpgmError

F = TypeVar("F", bound=Callable[..., Any])


def _fail(message: str, code: int) -> None:
    click.echo(f"onnxfpgm: error: {message}", err=True)
    sys.exit(code)


def handle_errors(func: F) -> F:
    """Turn library errors and interrupts into one line on stderr and an exit status, with no traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except OnnxFpgmError as exc:
            _fail(str(exc), exc.exit_code)
        except BrokenPipeError:  # `onnxfpgm score m.onnx | head`: the reader left, which is not an error
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(0)
        except KeyboardInterrupt:
            _fail("interrupted; nothing was written", 130)
        except MemoryError:
            _fail("out of memory", 1)
        except Exception as exc:  # a bug: still one line, the traceback only on request
            if os.environ.get("ONNXFPGM_DEBUG"):
                raise
            _fail(f"internal error ({type(exc).__name__}: {exc}); set ONNXFPGM_DEBUG=1 for a traceback", 1)

    return wrapper  # type: ignore[return-value]


class _Bar:
    """A click progress bar per stage, shown on stderr when it is a terminal."""

    def __init__(self) -> None:
        self.stage: str | None = None
        self.bar: Any = None
        self.done = 0

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not sys.stderr.isatty():
            return
        if stage != self.stage:
            self.close()
            self.stage, self.done = stage, 0
            self.bar = click.progressbar(length=total, label=f"{stage:<18}", file=sys.stderr, show_pos=True)
            self.bar.__enter__()
        self.bar.update(done - self.done)
        self.done = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


def _config(ratio: float | None, criterion: str | None, distance: str | None, layer_ratio: tuple[str, ...],
            exclude: tuple[str, ...], min_channels: int | None, round_to: int | None, device: str | None,
            input_shape: tuple[str, ...], config_file: str | None, **extra: Any) -> PruneConfig:
    cfg = PruneConfig()
    if config_file:
        cfg = cfg.with_file(config_file)
    given: dict[str, Any] = {k: v for k, v in dict(ratio=ratio, criterion=criterion, distance=distance,
                                                   min_channels=min_channels, round_to=round_to,
                                                   device=device).items() if v is not None}
    if layer_ratio:
        given["layer_ratios"] = cfg.layer_ratios + tuple(parse_layer_ratio(t) for t in layer_ratio)
    if exclude:
        given["exclude"] = cfg.exclude + exclude
    if input_shape:
        given["input_shapes"] = cfg.input_shapes + tuple(parse_input_shape(t) for t in input_shape)
    given.update(extra)
    return replace(cfg, **given)


def _common(func: F) -> F:
    options = [
        click.option("--ratio", type=float, default=None,
                     help="Share of channels removed per group [0, 1); default 0.3."),
        click.option("--criterion", type=click.Choice(CRITERIA), default=None, help="Channel score; default fpgm."),
        click.option("--distance", type=click.Choice(DISTANCES), default=None, help="FPGM distance; default l2."),
        click.option("--layer-ratio", multiple=True, metavar="PATTERN=RATIO",
                     help="Ratio for groups with a producer node matching the glob (repeatable)."),
        click.option("--exclude", multiple=True, metavar="PATTERN",
                     help="Leave groups with a producer node matching the glob untouched (repeatable)."),
        click.option("--min-channels", type=int, default=None, help="Channels every group keeps at least; default 1."),
        click.option("--round-to", type=int, default=None,
                     help="Kept channels rounded up to a multiple of N; default 8 (1: round(ratio * C) removed)."),
        click.option("--device", type=click.Choice(DEVICES), default=None,
                     help="auto: torch on CUDA when available, else numpy; cpu: numpy; cuda: torch on CUDA."),
        click.option("--input-shape", multiple=True, metavar="NAME:1x3x224x224",
                     help="Concrete dims for a dynamic input (repeatable); other dynamic dims are 1."),
        click.option("--config", "config_file", type=click.Path(dir_okay=False), default=None,
                     help="JSON file with the same options (layer_ratios as {pattern: ratio})."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="onnxfpgm")
def main() -> None:
    """Structured channel pruning of ONNX models with FPGM, checked by onnxruntime."""


@main.command()
@click.argument("input_path", metavar="IN", type=click.Path())
@click.argument("output_path", metavar="OUT", type=click.Path())
@_common
@click.option("--report", "report_path", type=click.Path(dir_okay=False), default=None, help="Write the JSON report.")
@click.option("--no-validate", is_flag=True, help="Skip the onnxruntime runs and the exactness check.")
@click.option("--dry-run", is_flag=True, help="Plan and report; write no model.")
@click.option("--force", is_flag=True, help="Overwrite an existing output (and report).")
@click.option("--tolerance", type=float, default=None, help="Allowed difference, relative to the output scale.")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing on success.")
@handle_errors
def prune(input_path: str, output_path: str, report_path: str | None, no_validate: bool, dry_run: bool,
          force: bool, tolerance: float | None, quiet: bool, **opts: Any) -> None:
    """Prune IN and write the smaller model to OUT."""
    from . import api
    from .io import check_output_path, save_model

    extra: dict[str, Any] = {"validate": False} if no_validate else {}
    if tolerance is not None:
        extra["tolerance"] = tolerance
    cfg = _config(**opts, **extra)
    if not dry_run:
        check_output_path(input_path, output_path, force)
    if report_path:
        check_output_path(input_path, report_path, force, what="report")
        if not dry_run and Path(report_path).resolve() == Path(output_path).resolve():
            raise click.UsageError("--report must differ from OUT")
    bar = _Bar()
    try:
        if dry_run:
            report = api.dry_run(input_path, cfg, progress=bar)
        else:
            model, data, report = api.prune_serialized(input_path, cfg, progress=bar, output_path=output_path)
    finally:
        bar.close()
    if not dry_run:
        save_model(model, output_path, data)
        report = replace(report, totals=replace(report.totals, bytes_after=Path(output_path).stat().st_size))
    if report_path:
        from .io import atomic_write_bytes

        atomic_write_bytes(report_path, (report.to_json() + "\n").encode())
    if not quiet:
        from .report import summary

        click.echo(summary(report))
        click.echo(f"wrote    {output_path}" if not dry_run else "dry run: no model written")


@main.command()
@click.argument("input_path", metavar="IN", type=click.Path())
@click.option("--input-shape", multiple=True, metavar="NAME:1x3x224x224", help="Concrete dims for a dynamic input.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@handle_errors
def inspect(input_path: str, input_shape: tuple[str, ...], as_json: bool) -> None:
    """List every channel group of IN: producers, consumers, channels, MAC share, and why a group is fixed."""
    from . import api

    groups = api.inspect(input_path, dict(parse_input_shape(t) for t in input_shape))
    total = max(sum(g.macs for g in groups), 1)
    if as_json:
        click.echo(json.dumps([{**asdict(g), "mac_share": g.macs / total} for g in groups], indent=2))
        return
    prunable = sum(g.prunable for g in groups)
    click.echo(f"{len(groups)} channel groups, {prunable} prunable, "
               f"{sum(g.macs for g in groups if g.prunable) / total:.1%} of producer MACs in prunable groups")
    for g in groups:
        state = "prunable" if g.prunable else "fixed"
        click.echo(f"[{g.id}] {state:<8} {g.channels:>5} ch  {g.macs / total:6.1%} MACs  "
                   f"producers: {', '.join(g.producers) or '-'}")
        click.echo(f"       consumers: {', '.join(g.consumers) or '-'}")
        if g.fixed:
            click.echo(f"       why fixed: {g.fixed}")


@main.command()
@click.argument("input_path", metavar="IN", type=click.Path())
@_common
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default="json", help="Output format.")
@handle_errors
def score(input_path: str, fmt: str, **opts: Any) -> None:
    """Print the per-channel scores of every prunable group of IN (lowest scores are removed first)."""
    from . import api

    cfg = _config(**opts)
    scores = api.score(input_path, cfg)
    if fmt == "json":
        click.echo(json.dumps({"criterion": cfg.criterion, "distance": cfg.distance,
                               "groups": {str(g): [float(v) for v in s] for g, s in scores.items()}}, indent=1))
        return
    buf = _io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["group", "channel", "score"])
    for g, s in scores.items():
        for c, v in enumerate(s):
            writer.writerow([g, c, repr(float(v))])
    click.echo(buf.getvalue(), nl=False)


if __name__ == "__main__":  # pragma: no cover
    main()
