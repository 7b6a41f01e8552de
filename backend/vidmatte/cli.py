"""The `vidmatte` command: serve the app, fetch weights, matte videos in batch, train, evaluate."""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import logging
import re
import shutil
import signal
import socket
import sqlite3
import sys
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

INTERRUPTED = 130  # the shell's code for a command ended by Ctrl-C

# Importing torch (config.py) takes seconds, before main() runs: Ctrl-C then ends the command
# as Ctrl-C later does, without a traceback of the import.
try:
    import typer
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )
    from typer.core import TyperGroup

    from vidmatte.config import SettingError, Settings
    from vidmatte.matte.adjust import MAX_FEATHER, MAX_SHIFT_EDGE
    from vidmatte.media.export import FORMATS
    from vidmatte.media.sequence import MAX_FPS, MIN_FPS
    from vidmatte.store import (
        Point,
        clashing_clicks,
        is_disk_full,
        unanchored,
        without_repeats,
        wrong_corners,
    )
except KeyboardInterrupt:
    sys.stderr.write("error: interrupted while starting\n")
    raise SystemExit(INTERRUPTED) from None

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

    from vidmatte.media.video import VideoInfo

_Frame = TypeVar("_Frame")  # an export's frame, as _counted passes it on

# Set once the command is at its work: from then on it says what a Ctrl-C does (or keeps what
# typer does, for the commands that take no care of it); before, it is still starting.
_AT_WORK = threading.Event()


@contextlib.contextmanager
def _interrupted_while_starting() -> Iterator[None]:
    """A Ctrl-C before the command is at its work (while it imports what it needs, checks its
    arguments, probes the video) said as one during the imports above is: typer ended the
    command on it silently, with exit code 130."""
    try:
        yield
    except KeyboardInterrupt:
        if _AT_WORK.is_set():
            raise
        typer.echo("error: interrupted while starting", err=True)
        raise typer.Exit(INTERRUPTED) from None


class _Commands(TyperGroup):
    """The `vidmatte` group: its own arguments read, then a command's read and run, with a
    Ctrl-C while the command starts said (`_interrupted_while_starting`)."""

    def make_context(self, *args: Any, **kwargs: Any) -> Any:
        with _interrupted_while_starting():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx: Any) -> Any:
        with _interrupted_while_starting():
            return super().invoke(ctx)


# Help is plain text: Rich markup would swallow its `[env VIDMATTE_...]` and `[object:]` notes.
app = typer.Typer(
    cls=_Commands,
    help="Interactive video matting with SAM2 and a matting head.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
weights_app = typer.Typer(help="SAM2 checkpoints.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(weights_app, name="weights")
dataset_app = typer.Typer(
    help="Training and validation clips.", no_args_is_help=True, rich_markup_mode=None
)
app.add_typer(dataset_app, name="dataset")


# Model options that `serve` and `matte` share, word for word.
RANDOM_INIT = typer.Option(False, "--random-init", help="Real SAM2 size, random weights.")
COMPILE_SAM2 = typer.Option(
    False,
    "--compile",
    help="SAM2 through torch.compile (its vos_optimized path; for CUDA: the first frames "
    "wait minutes for compilation) [env VIDMATTE_COMPILE=1].",
)
EDGES = typer.Option(
    None, help="Edge refinement: best (matting on the device), fast or none (default: best)."
)
PLATE = typer.Option(
    None,
    help="best edges also use the background seen in other frames (before and after), and "
    "find strands the head missed where the frame is not that background: auto (the "
    "default: on, from at most 8 frames on the CPU), on (the same) or off [env VIDMATTE_PLATE].",
)


def _settings(**overrides) -> Settings:
    base = Settings()
    return dataclasses.replace(base, **{k: v for k, v in overrides.items() if v is not None})


def _checked_device(flag: str | None) -> str:
    """--device, else VIDMATTE_DEVICE, else the default; one torch cannot use (a typo, CUDA on
    a machine without a GPU) ends the command with the fix, before any model loads."""
    from vidmatte.config import check_device

    device = flag or Settings().device
    try:
        check_device(device, "--device" if flag else "VIDMATTE_DEVICE")
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    return device


def _check_choices(**given: str | None) -> None:
    """The options named (their values, None where not given: then their VIDMATTE_ variable's)
    checked before any model loads or the data dir opens, a bad one blamed on the option or
    the variable (the models would say "edges must be ..." naming neither)."""
    from vidmatte.config import check_plate, check_runner
    from vidmatte.matte.refine import check_edges
    from vidmatte.segment.models import spec

    env = Settings()
    checks: dict[str, tuple[Callable[[str], object], str]] = {
        "sam2": (spec, env.sam2_model),
        "edges": (check_edges, env.edges),
        "plate": (check_plate, env.plate),
        "runner": (check_runner, env.runner),
    }
    for option, flag in given.items():
        check, default = checks[option]
        with _blamed_on(f"'--{option}'" if flag is not None else f"VIDMATTE_{option.upper()}"):
            check(default if flag is None else flag)


def _services(settings: Settings):
    """Load the models; missing weights end the command with the fix in its message, a data dir
    that another server holds with its PID, before anything in it is touched, one on a full
    disk or with a damaged database naming it, and one that cannot be a data dir (below a file,
    a newer vidmatte's) naming it as bad input."""
    from vidmatte.api.app import HeadMissing, build_services
    from vidmatte.segment.models import CheckpointDamaged, CheckpointMissing
    from vidmatte.store import BadDataDir, DataDirInUse, DataDirUnusable

    try:
        return build_services(settings)
    # ValueError: a setting _check_choices does not cover, whose message names it (e.g.
    # VIDMATTE_EXPORT_FG) or the file at fault (a --head that is no head's weights)
    except (CheckpointMissing, CheckpointDamaged, HeadMissing, BadDataDir, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    except (DataDirInUse, DataDirUnusable, ConnectionError) as exc:  # ConnectionError: no Ray
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc


@app.command()
def serve(
    host: str = typer.Option(
        None, help="Address to listen on (default 127.0.0.1; 0.0.0.0: every interface)."
    ),
    port: int = typer.Option(8000, min=1, max=65535, help="Port to listen on."),
    data_dir: Path = typer.Option(
        None, help="Where projects and results live [env VIDMATTE_DATA_DIR]."
    ),
    sam2: str = typer.Option(
        None,
        help="SAM2 size: tiny, small, base_plus, large, or test-tiny "
        "(shrunk, random weights); default small.",
    ),
    random_init: bool = RANDOM_INIT,
    compile_sam2: bool = COMPILE_SAM2,
    checkpoint_dir: Path = typer.Option(None, help="Where SAM2 checkpoints are."),
    head: Path = typer.Option(None, help="Matting head weights (.safetensors)."),
    random_head: bool = typer.Option(
        False,
        "--random-head",
        help="Use an untrained matting head if --head is missing [env VIDMATTE_RANDOM_HEAD=1].",
    ),
    device: str = typer.Option(
        None, help="cpu, cuda or cuda:N (default: cuda when available) [env VIDMATTE_DEVICE]."
    ),
    edges: str = EDGES,
    plate: str = PLATE,
    token: str = typer.Option(
        None,
        help="Access token (default: the data dir's, made at first start) [env VIDMATTE_TOKEN].",
    ),
    no_auth: bool = typer.Option(
        False, "--no-auth", help="No token (loopback --host only) [env VIDMATTE_NO_AUTH=1]."
    ),
    allowed_hosts: str = typer.Option(
        None,
        help="Comma-separated names accepted in the Host header besides loopback ones and "
        "--host, e.g. the name behind a reverse proxy [env VIDMATTE_ALLOWED_HOSTS].",
    ),
    runner: str = typer.Option(
        None,
        help="Who runs jobs: inprocess (this process, the default) or ray (a Ray cluster; "
        "docs/DEPLOY.md) [env VIDMATTE_RUNNER].",
    ),
    ray_address: str = typer.Option(
        None,
        help="With --runner ray: auto (a cluster started with `ray start`, the default), local "
        "(start Ray here) or HOST:PORT of a head [env VIDMATTE_RAY_ADDRESS].",
    ),
    ray_cpu_workers: int = typer.Option(
        None,
        min=0,
        help="With --runner ray: N CPU workers instead of one per GPU [env "
        "VIDMATTE_RAY_CPU_WORKERS].",
    ),
) -> None:
    """Start the API and the editor."""
    import uvicorn

    from vidmatte.api.app import create_app
    from vidmatte.api.http import SHUTDOWN_SECONDS, header_timeout_protocol

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    settings = _settings(
        data_dir=data_dir,
        sam2_model=sam2,
        checkpoint_dir=checkpoint_dir,
        head_path=head,
        device=_checked_device(device),
        edges=edges,
        plate=plate,
        random_init=random_init or None,
        compile_sam2=compile_sam2 or None,
        random_head=random_head or None,
        host=host,
        token=token,
        no_auth=no_auth or None,
        allowed_hosts=tuple(h.strip() for h in allowed_hosts.split(",") if h.strip())
        if allowed_hosts
        else None,
        runner=runner,
        ray_address=ray_address,
        ray_cpu_workers=ray_cpu_workers,
    )
    _check_access(settings)
    _check_choices(sam2=sam2, edges=edges, plate=plate, runner=runner)
    _no_file_in_the_way(
        settings.checkpoint_dir,
        "'--checkpoint-dir'" if checkpoint_dir else "VIDMATTE_CHECKPOINT_DIR",
    )
    _check_head(settings.head_path, "'--head'" if head else None)
    _check_port(settings.host, port)
    services = _services(settings)
    app_ = create_app(settings, services)
    _announce(settings, port)
    _AT_WORK.set()  # uvicorn takes over Ctrl-C: the server shuts down
    # Slow clients: headers and upload bodies get settings.idle_timeout (api/http.py).
    uvicorn.run(
        app_,
        host=settings.host,
        port=port,
        log_level="info",
        http=header_timeout_protocol(settings.idle_timeout),
        timeout_graceful_shutdown=SHUTDOWN_SECONDS,
    )


def _check_head(path: Path, hint: str | None) -> None:
    """The head's weights read before the data dir is opened: a file that is no head's (a
    typo, a SAM2 checkpoint) was refused only after a new data dir was made and SAM2 loaded.
    `hint`: the option to blame, where given; weights that are missing are build_services'
    to refuse, or to stand in for with an untrained head (--random-head)."""
    from vidmatte.matte.weights import load_head

    if not path.is_file():
        return
    try:
        load_head(path)
    except ValueError as exc:  # names the file, and how to restore the shipped one
        if hint is not None:
            raise typer.BadParameter(str(exc), param_hint=hint) from exc
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc


def _check_access(settings: Settings) -> None:
    """--no-auth is for a loopback address only: anyone who can reach the port would own it."""
    from vidmatte.api.security import is_loopback

    if settings.no_auth and not is_loopback(settings.host):
        typer.echo(
            f"error: --no-auth is allowed on a loopback --host only (127.0.0.1, ::1), not "
            f"{settings.host}: everyone who can reach the port could read and delete every "
            "project. Keep the token (README: Running on a network).",
            err=True,
        )
        raise typer.Exit(2)


def _check_port(host: str, port: int) -> None:
    """A port another program holds, or an address that is not this machine's, ends the
    command now: not after the models load, nor after printing an editor URL that leads to
    that program."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((host, port))
        except OSError as exc:
            # A taken or privileged port is the port's fault; an address of another machine or
            # a name that does not resolve is the host's.
            if exc.errno == errno.EADDRINUSE:
                fix = "another server may hold the port: choose another with --port"
            elif exc.errno == errno.EACCES:
                fix = "ports below 1024 need privileges: choose another with --port"
            else:
                fix = (
                    "give an address of this machine with --host (127.0.0.1, or 0.0.0.0 for "
                    "every interface)"
                )
            typer.echo(
                f"error: cannot listen on {host}:{port}: {exc.strerror or exc}; {fix}", err=True
            )
            raise typer.Exit(1) from exc


def _announce(settings: Settings, port: int) -> None:
    """Print the editor's URL with the token, like Jupyter, and warn on an open address."""
    from vidmatte.api.security import editor_url, is_loopback, resolve_token

    token = resolve_token(settings)
    typer.echo(
        "\nvidmatte editor (open this URL; it carries the access token):\n"
        f"    {editor_url(settings.host, port, token)}\n"
    )
    if not is_loopback(settings.host):
        typer.echo(
            f"warning: listening on {settings.host}: other machines can reach this server. "
            f"From them open {editor_url('<this machine IP>', port, token)} (to use a name, "
            "add it with --allowed-hosts). Use TLS through a reverse proxy on an untrusted "
            "network (README: Running on a network).\n",
            err=True,
        )


@app.command("token")
def token_command(
    data_dir: Path = typer.Option(
        None, help="Where projects and results live [env VIDMATTE_DATA_DIR]."
    ),
) -> None:
    """Print the data dir's access token (VIDMATTE_TOKEN if set); a server started with --token
    uses that one instead."""
    from vidmatte.api.security import load_or_create_token

    if data_dir is not None and not data_dir.is_dir():  # a typo would get a token of its own
        raise typer.BadParameter(
            f"{data_dir} is not a folder: give the --data-dir the server runs with",
            param_hint="'--data-dir'",
        )
    settings = _settings(data_dir=data_dir)
    typer.echo(settings.token or load_or_create_token(settings.data_dir))


def _downloadable(names: list[str] | None) -> list[str]:
    """The models to download (small if none is named), every name checked before the first
    download starts: a typo found after a 180 MB download is found too late."""
    from vidmatte.segment.models import check_downloadable

    chosen = names or ["small"]
    for name in chosen:
        try:
            check_downloadable(name)
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from exc
    return chosen


def _a_sha256(digest: str | None) -> str | None:
    """Checked before the download: a typo found after 180 MB is found too late."""
    if digest is not None and not re.fullmatch(r"[0-9a-fA-F]{64}", digest):
        raise typer.BadParameter(f"{digest!r} is not a SHA-256 (64 hexadecimal digits)")
    return digest


@weights_app.command("download")
def weights_download(
    names: list[str] = typer.Argument(
        None, help="tiny, small, base_plus, large (default: small)", callback=_downloadable
    ),
    dir: Path = typer.Option(
        None, "--dir", help="Checkpoint folder [env VIDMATTE_CHECKPOINT_DIR]."
    ),
    url: str = typer.Option(None, help="Download from this https URL instead (a mirror)."),
    mirror: Path = typer.Option(
        None,
        exists=True,
        help="Copy from a local mirror instead (air-gapped machines): a folder holding the "
        "official file names (sam2.1_hiera_small.pt, ...), or the file itself.",
    ),
    sha256: str = typer.Option(
        None,
        help="Expected SHA-256 of the file (Meta publishes none; without it none is checked).",
        callback=_a_sha256,
    ),
) -> None:
    """Download official SAM2.1 checkpoints (https only), with a progress bar. The file's
    SHA-256 is recorded beside it and checked on every later load (a damaged copy is named);
    with --sha256 the download itself is checked against it."""
    from vidmatte.segment.models import ChecksumMismatch, download

    if url and mirror:
        raise typer.BadParameter("give --url or --mirror, not both")
    if mirror and mirror.is_file() and len(names) > 1:
        raise typer.BadParameter(
            "a --mirror file is one checkpoint: give one model name with it, or a mirror folder",
            param_hint="'--mirror'",
        )
    if url and len(names) > 1:
        raise typer.BadParameter(
            "a --url is one checkpoint: give one model name with it", param_hint="'--url'"
        )
    if sha256 and len(names) > 1:
        raise typer.BadParameter(
            "one --sha256 is one checkpoint's: give one model name with it",
            param_hint="'--sha256'",
        )
    folder = dir or Settings().checkpoint_dir
    _no_file_in_the_way(folder, "'--dir'" if dir else "VIDMATTE_CHECKPOINT_DIR")
    _AT_WORK.set()  # a download stopped is deleted (segment.models.download)
    for name in names:
        columns = (
            TextColumn(f"[bold]{name}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
        )
        try:  # the error after the bar is closed, so it is the last line a user sees
            with Progress(*columns) as bar:
                task = bar.add_task(name, total=None)

                def advance(done: int, total: int, task=task, bar=bar) -> None:
                    bar.update(task, completed=done, total=total or None)

                path = download(
                    name, folder, url=url, sha256=sha256, progress=advance, mirror=mirror
                )
        except (ChecksumMismatch, ValueError, OSError) as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from exc
        typer.echo(f"{name}: {path}")


def _check_out(out: Path) -> Path:
    """--out is a new or empty folder, or is made one: neither it nor a folder above it may be
    a file, and files already in it would mix with this run's. Checked before any work, so a
    long run never ends on it."""
    _no_file_in_the_way(out)
    if out.is_dir() and any(out.iterdir()):
        raise typer.BadParameter(
            f"{out} already holds files (an earlier run's?): they would mix with this run's; "
            "give a new folder or empty it"
        )
    return out


def _no_file_in_the_way(folder: Path, hint: str | None = None) -> None:
    """`folder` is a folder, or can be made one: neither it nor a folder above it is a file
    (mkdir said only "[Errno 17] File exists"). `hint`: the option or setting to blame, where
    not the parameter whose callback this is."""
    for path in (folder, *folder.parents):
        if path.exists():
            if path.is_dir():
                return
            problem = (
                f"{folder} is a file; give a folder (made if missing)"
                if path == folder
                else f"{folder} cannot be made: {path} is a file"
            )
            raise typer.BadParameter(problem, param_hint=hint)


def _parse_point(text: str) -> tuple[str | None, int, float, float, str]:
    """`[object:]x,y,frame[,neg]` -> (object name or None, frame, x, y, label); ValueError
    for text that is not one."""
    name, _, coords = text.rpartition(":")
    parts = [p.strip() for p in coords.split(",")]
    if len(parts) not in (3, 4) or (len(parts) == 4 and parts[3] not in ("neg", "pos")):
        raise ValueError(
            f"'{text}': expected x,y,frame or x,y,frame,neg (after object: for a named object)"
        )
    try:
        x, y, frame = float(parts[0]), float(parts[1]), int(parts[2])
    except ValueError as exc:
        raise ValueError(f"'{text}': x and y are numbers, frame an integer") from exc
    return name.strip() or None, frame, x, y, "negative" if parts[3:] == ["neg"] else "positive"


def _parse_box(text: str) -> list[tuple[str | None, int, float, float, str]]:
    """`[object:]x0,y0,x1,y1,frame` -> its two corners as --point's tuples, labelled "box";
    ValueError for text that is not one, or a box under 1 px a side."""
    from vidmatte.store import BOX, split_box

    name, _, coords = text.rpartition(":")
    parts = [p.strip() for p in coords.split(",")]
    if len(parts) != 5:
        raise ValueError(f"'{text}': expected x0,y0,x1,y1,frame (after object: for a named object)")
    try:
        x0, y0, x1, y1, frame = *(float(p) for p in parts[:4]), int(parts[4])
    except ValueError as exc:
        raise ValueError(f"'{text}': x0, y0, x1 and y1 are numbers, frame an integer") from exc
    split_box([Point(x0, y0, BOX), Point(x1, y1, BOX)])
    return [(name.strip() or None, frame, x, y, BOX) for x, y in ((x0, y0), (x1, y1))]


def _as_the_api_takes(low: float, high: float) -> Callable[[str | float], float]:
    """The parser of a number option (--fps, an edge adjustment in pixels): a plain decimal
    number from `low` to `high`, refused where the API's field of that name is (an upload's
    fps, the archive's shift_edge and feather), in its words. typer's own range check called
    NaN "less than or equal to 32", and float() read "1_0" as 10. What checks it is imported
    when a value is parsed: `--help` stays quick."""

    def parse(value: str | float) -> float:
        from pydantic import BeforeValidator, Field, TypeAdapter, ValidationError

        from vidmatte.api.schemas import plain_decimal

        number = Annotated[
            float, Field(ge=low, le=high, allow_inf_nan=False), BeforeValidator(plain_decimal)
        ]
        try:
            return TypeAdapter(number).validate_python(value)
        except ValidationError as exc:
            # Our own validator's ValueError comes back as "Value error, <message>".
            raise typer.BadParameter(exc.errors()[0]["msg"].removeprefix("Value error, ")) from exc

    return parse


@app.command()
def matte(
    video: Path = typer.Argument(
        ...,
        exists=True,
        metavar="VIDEO",
        help="The video to matte, or an image sequence: a folder, a zip or a tar of numbered "
        "images (shot.1001.png ...; PNG, JPEG, TIFF, DPX or EXR).",
    ),
    point: list[str] = typer.Option(
        None,
        "--point",
        metavar="[OBJECT:]X,Y,FRAME[,neg]",
        help="A click in video pixels (',neg': a negative one); repeat. Points with an object name "
        "matte that object (one matte each, named after it); without, one unnamed object.",
    ),
    box: list[str] = typer.Option(
        None,
        "--box",
        metavar="[OBJECT:]X0,Y0,X1,Y1,FRAME",
        help="A box around the object in video pixels, by two opposite corners: at most one per "
        "object and frame, with or without --point clicks; repeat for other frames or objects.",
    ),
    start: int = typer.Option(0, min=0, help="First frame."),
    end: int = typer.Option(None, min=0, help="Last frame, inclusive (default: the last one)."),
    fps: float = typer.Option(
        None,
        parser=_as_the_api_takes(MIN_FPS, MAX_FPS),
        metavar="FLOAT",
        help=f"Frame rate of an image sequence, {MIN_FPS:g}..{MAX_FPS:g} (default: the rate its "
        "images state, as EXR and DPX do, else 24); not for videos.",
    ),
    out: Path = typer.Option(
        Path("matte_out"),
        help="Output folder: new or empty (made if missing).",
        callback=_check_out,
    ),
    # Repeated, as the archive's `formats` takes it: a second --formats replaced the first.
    formats: list[str] = typer.Option(
        ["alpha_png"],
        help="Comma-separated, or the option repeated: " + ", ".join(FORMATS),
    ),
    background: str = typer.Option("00ff00", help="Background colour for composite_mp4."),
    mattes: str = typer.Option(
        "objects", help="Several objects: each one's own mattes, their union, or both."
    ),
    fg: str = typer.Option(
        None,
        help="Colour of the colour-carrying formats: estimated (foreground, old background "
        "taken out of soft edges) or raw (the frame's own). Default: VIDMATTE_EXPORT_FG.",
    ),
    shift_edge: float = typer.Option(
        0.0,
        parser=_as_the_api_takes(-MAX_SHIFT_EDGE, MAX_SHIFT_EDGE),
        metavar="PX",
        help="Grow (positive) or choke (negative) the exported mattes by this many pixels "
        f"({-MAX_SHIFT_EDGE:g}..{MAX_SHIFT_EDGE:g}).",
    ),
    feather: float = typer.Option(
        0.0,
        parser=_as_the_api_takes(0, MAX_FEATHER),
        metavar="PX",
        help="Soften the exported mattes' edges: a hard edge ramps up over about this many "
        f"pixels (0..{MAX_FEATHER:g}; after --shift-edge).",
    ),
    reduce_chatter: bool = typer.Option(
        False,
        "--reduce-chatter",
        help="Take out the exported mattes' flicker between frames where the picture is "
        "still: each still pixel the median of its values on the frame and the frames before "
        "and after it (before --shift-edge).",
    ),
    sam2: str = typer.Option(
        None,
        help="SAM2 size: tiny, small, base_plus, large, or test-tiny (shrunk, random weights); "
        "default small. Checkpoints are read from VIDMATTE_CHECKPOINT_DIR.",
    ),
    random_init: bool = RANDOM_INIT,
    compile_sam2: bool = COMPILE_SAM2,
    head: Path = typer.Option(None, help="Matting head weights."),
    random_head: bool = typer.Option(
        False, "--random-head", help="Use an untrained matting head if --head is missing."
    ),
    device: str = typer.Option(None, help="cpu, cuda or cuda:N [env VIDMATTE_DEVICE]."),
    edges: str = EDGES,
    plate: str = PLATE,
) -> None:
    """Matte a video without the browser: click points and boxes in, alpha (and any export
    format) out."""
    from vidmatte.errors import describe
    from vidmatte.jobs.pipeline import Stopped, run_job
    from vidmatte.jobs.results import foreground_for
    from vidmatte.matte.adjust import EdgeAdjust
    from vidmatte.media.export import parse_color, parse_formats
    from vidmatte.media.video import MediaError, probe

    with _blamed_on("'--formats'"):
        chosen = parse_formats(",".join(formats))
    with _blamed_on("'--background'"):
        colour = parse_color(background)
    # In range: typer refused any other (NaN too).
    edge = EdgeAdjust(shift_edge, feather, reduce_chatter)
    if not point and not box:
        raise typer.BadParameter("give a --point or a --box", param_hint="'--point' / '--box'")
    with _blamed_on("'--point'"):
        prompts = [_parse_point(p) for p in point or []]
    with _blamed_on("'--box'"):
        boxes = [_parse_box(b) for b in box or []]
    with _as_video(video, fps) as (source, stem):
        with _blamed_on("'VIDEO'"):  # a MediaError is a ValueError
            info, pts = probe(source)
        for note in info.notes:  # a file cut short, an alpha channel ignored
            typer.echo(f"note: {note}", err=True)
        fg_hint = "'--fg'" if fg else "VIDMATTE_EXPORT_FG"  # the environment's, without --fg
        with _blamed_on(fg_hint):
            colour_from = foreground_for(chosen, fg or _settings().export_fg)
        if end is None and start >= info.frame_count:  # not "after end frame N": none was given
            last = info.frame_count - 1
            raise typer.BadParameter(
                f"frame range {start}.. is outside the video (frames 0..{last})",
                param_hint="'--start'",
            )
        end = info.frame_count - 1 if end is None else end
        _check_range(info, start, end)
        if mattes not in ("objects", "union", "both"):
            raise typer.BadParameter(
                f"mattes must be one of objects, union, both, not '{mattes}'",
                param_hint="'--mattes'",
            )
        for _, frame, x, y, _ in prompts:
            _check_point(info, frame, x, y)
        _check_boxes(info, boxes)
        prompts += [corner for corners in boxes for corner in corners]
        _check_prompts(prompts, start, end, _settings())
        _check_choices(sam2=sam2, edges=edges, plate=plate)
        device = _checked_device(device)
        with (
            _new_out(out),
            _stop_on_signals() as interrupt,
            tempfile.TemporaryDirectory(prefix="vidmatte-") as tmp,
        ):
            settings = _settings(
                data_dir=Path(tmp),
                sam2_model=sam2,
                head_path=head,
                device=device,
                edges=edges,
                plate=plate,
                random_init=random_init or None,
                compile_sam2=compile_sam2 or None,
                random_head=random_head or None,
            )
            services = _services(settings)
            with _work_folder_checked(tmp):
                store = services.store
                staged = store.tmp_dir / "source"
                staged.symlink_to(source.resolve())  # the job reads the original in place
                project = store.add_project(stem, video.name, staged, info, pts, b"")
                objects: dict[str | None, int] = {}
                by_frame: dict[tuple[int, int], list[Point]] = {}
                for name, frame, x, y, label in prompts:
                    if name not in objects:
                        objects[name] = store.add_object(project.id, name, None)["id"]
                    by_frame.setdefault((objects[name], frame), []).append(Point(x, y, label))
                for (obj, frame), points in by_frame.items():
                    store.set_points(project.id, obj, frame, points)
                queued = store.add_job(
                    project.id,
                    start,
                    end,
                    list(objects.values()),
                    edges=settings.edges,
                    head=services.head_name,
                    sam2=services.sam2_name,
                    plate=services.matter.plate,
                )
                job = store.transition(queued.id, "running")
            with Progress(
                TextColumn("[bold]matting"),
                BarColumn(),
                TextColumn("{task.completed}/{task.total} frames"),
                TextColumn("{task.fields[fps]} fps"),
                TimeRemainingColumn(),
            ) as bar:
                task = bar.add_task("matte", total=job.frames_total, fps="-")
                try:
                    run_job(
                        job,
                        store,
                        services.segmenter,
                        services.matter,
                        interrupt.event.is_set,
                        lambda p: bar.update(task, completed=p.done, fps=f"{p.fps:.2f}"),
                    )
                except MediaError as exc:  # a damaged frame: keep what was matted before it
                    failure = describe(exc)  # the API job's error, word for word
                except Stopped:
                    failure = "interrupted"
                except (OSError, sqlite3.DatabaseError) as exc:  # the work folder's disk is full
                    if not is_disk_full(exc):
                        raise
                    failure = _work_folder_full(tmp)
                else:
                    failure = None
            done = sorted(store.done_frames(job.id))
            also = None  # an export that failed after the job did: said, but not the cause
            if done:
                interrupt.doing = "finishing the export of the frames matted"
                try:
                    _export(
                        store,
                        project,
                        job.id,
                        chosen,
                        colour,
                        colour_from,
                        mattes,
                        edge,
                        device,
                        out,
                    )
                except OSError as exc:  # _export leaves nothing in `out` then
                    full = is_disk_full(exc)
                    if failure is None and not full:
                        raise
                    why = f"no space left on the disk of {out}" if full else _error_line(exc)
                    if failure is None:
                        failure = f"{why} (--out)"
                    else:  # the job's failure (or Ctrl-C) keeps its message and exit code
                        also = f"could not write the frames matted ({_spans(done)}) to --out: {why}"
                    done = []
        if failure is None:
            said = f"{start}..{end}{_numbered(info, list(range(start, end + 1)))}"
            typer.echo(f"wrote {', '.join(chosen)} for frames {said} to {out}")
            return
        kept = (
            f"wrote the frames matted before it ({_spans(done)}){_numbered(info, done)} to {out}"
            if done
            else "wrote nothing"
        )
        typer.echo(f"error: {failure}; {kept}", err=True)
        if also:
            typer.echo(f"also: {also}", err=True)
        raise typer.Exit(INTERRUPTED if failure == "interrupted" else 1)


def _work_folder_full(tmp: str) -> str:
    """What a full disk under the run's work folder (in TMPDIR) is said as."""
    return (
        f"no space left on the disk of the work folder {tmp}: set TMPDIR to a folder on a disk "
        "with room"
    )


@contextlib.contextmanager
def _work_folder_checked(tmp: str) -> Iterator[None]:
    """The run's project and job stored in the work folder: a disk that fills up then (a
    traceback of sqlite's "database or disk is full") ends as one that fills up during the
    matting does, before any frame is matted."""
    try:
        yield
    except (OSError, sqlite3.DatabaseError) as exc:
        if not is_disk_full(exc):
            raise
        typer.echo(f"error: {_work_folder_full(tmp)}; wrote nothing", err=True)
        raise typer.Exit(1) from exc


@contextlib.contextmanager
def _as_video(video: Path, fps: float | None) -> Iterator[tuple[Path, str]]:
    """VIDEO as a video file, and the name its exports take: an image sequence made into a
    lossless video in a temporary folder (removed afterwards) at --fps. --fps with a video is
    refused rather than ignored: the video keeps its own rate."""
    from vidmatte.media.sequence import is_sequence_source, sequence_to_video

    if not is_sequence_source(video):
        if fps is not None:
            raise typer.BadParameter(
                "only an image sequence (a folder, a zip or a tar of numbered images) takes one; "
                "a video keeps its own frame rate",
                param_hint="'--fps'",
            )
        yield video, video.stem
        return
    with tempfile.TemporaryDirectory(prefix="vidmatte-") as tmp:
        converted = Path(tmp) / "sequence.nut"
        try:
            with _blamed_on("'VIDEO'"), _quit_on_signals(), _images_bar() as advance:
                sequence = sequence_to_video(video, converted, fps, _settings(), advance)
        except KeyboardInterrupt:  # the video, partly written, goes with `tmp`
            typer.echo(
                "error: interrupted while reading the image sequence; wrote nothing", err=True
            )
            raise typer.Exit(INTERRUPTED) from None
        except OSError as exc:
            if not is_disk_full(exc):
                raise
            typer.echo(
                f"error: no space left for the image sequence's video in {tmp}: set TMPDIR "
                "to a folder on a disk with room",
                err=True,
            )
            raise typer.Exit(1) from exc
        yield converted, sequence.name


@contextlib.contextmanager
def _images_bar() -> Iterator[Callable[[int, int], None]]:
    """A bar of an image sequence's images made into a video (minutes for long plates, which
    passed without a word), told (done, total); shown from the first image written, so a
    sequence refused before that shows none. Closed before any error is said, so that is the
    last line."""
    bar = Progress(
        TextColumn("[bold]reading images"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} images"),
        TimeRemainingColumn(),
    )
    task = bar.add_task("images", total=None)

    def advance(done: int, total: int) -> None:
        bar.start()  # at the first image; a no-op after
        bar.update(task, completed=done, total=total)

    try:
        yield advance
    finally:
        bar.stop()  # a no-op where never started


class _Interrupt:
    """What the first Ctrl-C (or SIGTERM, SIGHUP) did: `event` is set, `doing` said, and what
    a second one keeps, `kept`."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.doing = "stopping after this frame"
        self.kept = "keeping nothing"


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@contextlib.contextmanager
def _stop_on_signals() -> Iterator[_Interrupt]:
    """The first Ctrl-C, SIGTERM (a `kill`, a job scheduler) or SIGHUP (a closed terminal)
    asks the run to stop after the frame in hand, so the frames matted so far are written; a
    second one quits at once (a KeyboardInterrupt: the work folder is still removed), keeping
    what `kept` says. Which signals: `_heeded`."""
    _AT_WORK.set()  # a Ctrl-C from now on is `stop`'s
    interrupt = _Interrupt()
    previous = {each: signal.getsignal(each) for each in STOP_SIGNALS}
    heeded = _heeded(STOP_SIGNALS)

    def stop(signum: int, frame: object) -> None:
        interrupt.event.set()
        for each in heeded:
            signal.signal(each, signal.default_int_handler)
        typer.echo(f"{interrupt.doing} (Ctrl-C again quits now, {interrupt.kept})", err=True)

    for each in heeded:
        signal.signal(each, stop)
    try:
        yield interrupt
    finally:
        for each, handler in previous.items():
            signal.signal(each, handler)


def _heeded(signals: tuple[signal.Signals, ...]) -> list[signal.Signals]:
    """Of `signals`, those a command takes over: all but a SIGHUP ignored when it began
    (`nohup`: the run outlives its terminal). Ctrl-C and a `kill` stop it even where the shell
    that started it ignores them (as it does SIGINT for a `&` job in a script)."""
    return [
        each
        for each in signals
        if not (each == signal.SIGHUP and signal.getsignal(each) is signal.SIG_IGN)
    ]


@contextlib.contextmanager
def _quit_on_signals() -> Iterator[None]:
    """SIGTERM (a `kill`, a job scheduler) and SIGHUP (a closed terminal) quit as Ctrl-C does,
    with a KeyboardInterrupt, so the work in hand is undone on the way out; by default they
    ended the process on the spot, leaving a half-written output (or GBs of an image
    sequence's video in TMPDIR) behind. Which signals: `_heeded`."""
    _AT_WORK.set()  # a Ctrl-C from now on is the caller's to say
    previous = {each: signal.getsignal(each) for each in (signal.SIGTERM, signal.SIGHUP)}
    for each in _heeded((signal.SIGTERM, signal.SIGHUP)):
        signal.signal(each, signal.default_int_handler)
    try:
        yield
    finally:
        for each, handler in previous.items():
            signal.signal(each, handler)


@contextlib.contextmanager
def _new_out(out: Path) -> Iterator[None]:
    """--out made and tried for writing now, before the models load; removed again when the
    command ends with nothing in it (a model that does not load, Ctrl-C, no frame matted), with
    the folders above it that were made for it."""
    made = _make_out(out)
    try:
        yield
    finally:
        if made is not None and out.is_dir() and not any(out.iterdir()):
            _remove_up_to(out, made)


def _remove_up_to(out: Path, top: Path) -> None:
    """The empty folder `out` removed, and each folder above it up to `top` that is empty then
    (one that holds something else now stays, with those above it)."""
    for folder in (out, *out.parents):
        try:
            folder.rmdir()
        except OSError:
            return
        if folder == top:
            return


def _spans(frames: list[int]) -> str:
    """Frame numbers as runs: [0, 1, 2, 8, 9] -> '0..2, 8..9'."""
    from vidmatte.jobs.tracks import intervals

    return ", ".join(f"{a}..{b}" if a != b else str(a) for a, b in intervals(frames))


def _numbered(info: VideoInfo, frames: list[int]) -> str:
    """` (images 1001..1004)`: an image sequence's own numbers of `frames` (indices, as
    --start and --point count), which the files written are named by; nothing where those are
    the indices (a video's)."""
    if not info.first_number:
        return ""
    return f" (images {_spans([info.first_number + frame for frame in frames])})"


def _make_out(out: Path, hint: str = "'--out'") -> Path | None:
    """Make --out (or the argument `hint` names), and write a file in it: a folder that cannot
    be made or written to (read-only, on /proc) ends the command before the work, not after
    it. The topmost folder made here (`out`, or one above it made for it), None where `out`
    was there."""
    _no_file_in_the_way(out, hint)
    missing = [folder for folder in (out, *out.parents) if not folder.exists()]
    made = missing[-1] if missing else None
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as exc:
        raise typer.BadParameter(
            f"{out} cannot be made or written to: {exc.strerror or exc}", param_hint=hint
        ) from exc
    return made


def _check_prompts(
    prompts: list[tuple[str | None, int, float, float, str]],
    start: int,
    end: int,
    settings: Settings,
) -> None:
    """The --point list within the limits a project has (the API's) and on the range: checked
    before the models load, by the store's own rules."""
    objects = list(dict.fromkeys(name for name, *_ in prompts))
    if len(objects) > settings.max_objects:
        raise typer.BadParameter(
            f"{len(objects)} objects: a project holds at most {settings.max_objects} "
            "(setting VIDMATTE_MAX_OBJECTS)",
            param_hint="'--point'",
        )
    frames = _frame_points(prompts)
    # Counted as the store counts them: the same click given twice is stored once.
    stored = {key: len(without_repeats(points)) for key, points in frames.items()}
    (name, frame), most = max(stored.items(), key=lambda item: item[1])
    if most > settings.max_points_per_frame:
        raise typer.BadParameter(
            f"{most} points for {name or 'the object'} on frame {frame}: at most "
            f"{settings.max_points_per_frame} (setting VIDMATTE_MAX_POINTS_PER_FRAME)",
            param_hint="'--point'",
        )
    _check_spots(frames)
    if not any(start <= frame <= end for _, frame, *_ in prompts):
        raise typer.BadParameter(
            f"no --point or --box lies on a frame in {start}..{end}",
            param_hint="'--point' / '--box'",
        )
    # Every object is matted: one with no positive click and no box in the range would be
    # matted as nothing (negative clicks only say where it is not), or fail in the store.
    ids = {name: i for i, name in enumerate(objects)}
    by_id = {(ids[name], frame): points for (name, frame), points in frames.items()}
    if (blind := unanchored(by_id, ids.values(), start, end)) is not None:
        name = objects[blind]
        negative = any(n == name and start <= frame <= end for n, frame in frames)
        what = "only negative points" if negative else "no --point or --box"
        raise typer.BadParameter(
            f"{name or 'the object'} has {what} on frames {start}..{end}: give it a "
            "positive --point or a --box there",
            param_hint="'--point' / '--box'",
        )


def _frame_points(
    prompts: list[tuple[str | None, int, float, float, str]],
) -> dict[tuple[str | None, int], list[Point]]:
    """The --point and --box prompts as the store holds them: each object's points on each
    frame, in the order given."""
    frames: dict[tuple[str | None, int], list[Point]] = {}
    for name, frame, x, y, label in prompts:
        frames.setdefault((name, frame), []).append(Point(x, y, label))
    return frames


def _check_spots(frames: dict[tuple[str | None, int], list[Point]]) -> None:
    """No positive and negative --point of one object at one spot of a frame (the API's rule,
    store.clashing_clicks)."""
    for (name, frame), points in frames.items():
        if (pair := clashing_clicks(points)) is not None:
            x, y = points[pair[1]].x, points[pair[1]].y
            spot = (f"{name}:" if name is not None else "") + f"{x:g},{y:g},{frame}"
            raise typer.BadParameter(
                f"--point {spot} and --point {spot},neg are both at ({x:g}, {y:g}) on frame "
                f"{frame}, one positive and one negative: keep one of them",
                param_hint="'--point'",
            )


def _check_boxes(
    info: VideoInfo, boxes: list[list[tuple[str | None, int, float, float, str]]]
) -> None:
    """Each --box on one of the video's frames and inside it, one per object and frame (the
    API's rule, store.wrong_corners)."""
    for corners in boxes:
        for _, frame, x, y, _ in corners:
            _check_point(info, frame, x, y, "'--box'")
    frames = _frame_points([corner for corners in boxes for corner in corners])
    for (name, frame), points in frames.items():
        if (corners := wrong_corners(points)) is not None:  # a --box gives 2 corners
            raise typer.BadParameter(
                f"{corners // 2} boxes for {name or 'the object'} on frame {frame}: one box per "
                "object and frame",
                param_hint="'--box'",
            )


def _check_range(info: VideoInfo, start: int, end: int) -> None:
    """--start..--end: an ordered range of the video's frames, in the API's words."""
    with _blamed_on("'--start' / '--end'"):
        info.check_range(start, end)


def _check_point(info: VideoInfo, frame: int, x: float, y: float, hint: str = "'--point'") -> None:
    """A --point (or --box corner) on one of the video's frames and inside it, in the API's
    words."""
    with _blamed_on(hint):
        info.check_frame(frame)
        info.check_point(x, y)


@contextlib.contextmanager
def _blamed_on(hint: str) -> Iterator[None]:
    """A ValueError inside is a bad value of this option (or setting), named in the message
    (raised inside the command, typer's own says only "Invalid value:")."""
    try:
        yield
    except SettingError:  # another VIDMATTE_ variable's, which the message names: not `hint`'s
        raise
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=hint) from exc


def _export(
    store,
    project,
    job_id: str,
    formats: list[str],
    colour,
    fg,
    mattes,
    edge,
    device: str,
    out: Path,
) -> None:
    """Write the job's results into `out` (the same files the archive download holds)."""
    from vidmatte.jobs.results import export_frames, plan_export
    from vidmatte.media.export import name_part, write_archive

    export = plan_export(store, job_id, mattes)
    # Staged on the disk of `out`, not the work folder's: the frames matted before that disk
    # filled up are still written.
    with tempfile.TemporaryDirectory(prefix=".vidmatte-export-", dir=out) as staging:
        # Written beside `out` and moved in whole: a disk that fills up midway leaves no
        # cut-off file there that looks like a result. As files, not a zip unpacked after,
        # which took twice the room (20 GB free for a 10 GB ProRes export).
        files = Path(staging) / "files"
        files.mkdir()
        # The colour formats take seconds a frame (a 720p ProRes, EXR and composite export of
        # 60 frames: 22 s), which passed without a word after the matting bar. Closed before
        # any error is said, so that is the last line.
        with Progress(
            TextColumn("[bold]exporting"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total} frames"),
            TimeRemainingColumn(),
        ) as bar:
            task = bar.add_task("export", total=len(export.frames))
            write_archive(
                files,
                _counted(export_frames(store, export, fg, device, edge), lambda: bar.advance(task)),
                formats,
                project.info.fps,
                export.audio_from,
                colour,
                stem=name_part(project.name) or "matte",
                staging=Path(staging),
                layers=export.layer_names,
                timecode=project.info.timecode,
            )
        for entry in files.iterdir():
            entry.rename(out / entry.name)


def _counted(frames: Iterable[_Frame], advance: Callable[[], None]) -> Iterator[_Frame]:
    """`frames`, `advance` called once each is written in every format: when the writer asks
    for the next one (or, for the last, is done with it)."""
    for frame in frames:
        yield frame
        advance()


def _a_dataset(path: Path) -> Path:
    """A folder `vidmatte dataset build` wrote (it holds clips/, and a clip in it); checked
    before any work."""
    if path.is_dir() and not (path / "clips").is_dir():
        raise typer.BadParameter(
            f"{path} is not a dataset (no clips/ folder): make one with `vidmatte dataset build`"
        )
    if path.is_dir() and not any((path / "clips").iterdir()):
        raise typer.BadParameter(
            f"{path} holds no clips (its clips/ folder is empty): build some with "
            "`vidmatte dataset build`"
        )
    return path


@contextlib.contextmanager
def _clips_checked() -> Iterator[None]:
    """A clip whose layers hold other frames (ClipError, which names it and them), or no clip
    to train on, is the DATASET argument's fault, as `train` and `eval` say, not a crash."""
    from vidmatte.train.dataset import DatasetError

    try:
        yield
    except DatasetError as exc:
        raise typer.BadParameter(str(exc), param_hint="'DATASET'") from exc


@contextlib.contextmanager
def _as_error_line(*kinds: type[Exception]) -> Iterator[None]:
    """Errors of these kinds, whose messages name the file and the fix, said as they are (exit
    1), without the type name `main` puts before a library's error."""
    try:
        yield
    except kinds as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc


def _sets_with(first: str, second: str, layout: str) -> Callable[[list[Path]], list[Path]]:
    """A callback that checks, before any work, that each folder holds the two sub-folders."""

    def check(paths: list[Path]) -> list[Path]:
        for path in paths:
            if not ((path / first).is_dir() and (path / second).is_dir()):
                raise typer.BadParameter(f"{path} needs {first}/ and {second}/ folders ({layout})")
        return paths

    return check


_image_sets = _sets_with(
    "image", "alpha", "the alphamatting layout: a photo and its alpha with the same name"
)
_video_sets = _sets_with(
    "fgr",
    "pha",
    "the VideoMatte240K layout: a folder of frames per clip in each, with the same names",
)


DATASET = typer.Argument(..., exists=True, file_okay=False, callback=_a_dataset)


@dataset_app.command("build")
def dataset_build(
    out: Path = typer.Argument(
        ..., help="Folder to write clips into: new or empty.", callback=_check_out
    ),
    images: list[Path] = typer.Option(
        [], callback=_image_sets, help="Image+alpha set (alphamatting layout); repeat."
    ),
    videos: list[Path] = typer.Option(
        [], callback=_video_sets, help="Video set (VideoMatte240K fgr/ + pha/); repeat."
    ),
    backgrounds: list[Path] = typer.Option(
        [], exists=True, help="Background images/videos or folders."
    ),
    names: str = typer.Option(None, help="Comma-separated foreground names (e.g. a split)."),
    clips_per_foreground: int = typer.Option(4, min=1, help="Clips made from each foreground."),
    frames: int = typer.Option(8, min=1, help="Frames per clip."),
    height: int = typer.Option(360, min=32),
    width: int = typer.Option(640, min=32),
    masks: str = typer.Option("synthetic", help="synthetic (degraded GT) or sam2 (real SAM2)."),
    sam2: str = typer.Option("test-tiny", help="SAM2 size for --masks sam2."),
    seed: int = typer.Option(0),
    transparent: int = typer.Option(
        0, min=0, help="Also this many procedural glass-like objects (exact alpha, 0.1-0.6)."
    ),
    strands: int = typer.Option(
        0, min=0, help="Also this many procedural furry objects (hair and strands, exact alpha)."
    ),
    object_blur: float = typer.Option(
        0.0, min=0.0, max=1.0, help="Chance a clip's object is defocused, and shaken, as well."
    ),
    codec: float = typer.Option(
        0.0, min=0.0, max=1.0, help="Chance a clip goes through H.264 (CRF 18-32), as footage does."
    ),
    workers: int = typer.Option(
        None,
        min=1,
        show_default="all cores",
        help="Processes making clips (the same clips for any number); --masks sam2 uses one.",
    ),
) -> None:
    """Composite foregrounds over backgrounds into moving clips with exact GT alpha and masks."""
    from vidmatte.train.dataset import (
        BACKGROUND_EXTS,
        DatasetError,
        background_paths,
        build_dataset,
        image_pairs,
        video_clips,
    )

    if masks not in ("synthetic", "sam2"):
        raise typer.BadParameter(f"--masks is synthetic or sam2, not '{masks}'")
    if masks == "sam2":
        _check_choices(sam2=sam2)
    chosen = [n.strip() for n in names.split(",")] if names else None
    # As the build finds them, which it did after making OUT, with a ValueError's name.
    if not background_paths(backgrounds):
        kinds = f"files ({' '.join(BACKGROUND_EXTS)}) or folders of them"
        given = ", ".join(str(b) for b in backgrounds)
        raise typer.BadParameter(
            f"no background images or videos in {given}: give {kinds}"
            if given
            else f"give background {kinds}",
            param_hint="'--backgrounds'",
        )
    found = 0  # foregrounds (of --names, where given) in the sets
    for root in images:  # a photo without a fitting alpha found now, not after minutes of work
        try:
            found += len(image_pairs(root, chosen))
        except DatasetError as exc:
            raise typer.BadParameter(str(exc), param_hint="'--images'") from exc
    found += sum(len(video_clips(root, chosen)) for root in videos)
    _check_foregrounds(images + videos, chosen, found + transparent + strands)
    with _removed_on_failure(out), _as_error_line(DatasetError):
        _make_out(out, "'OUT'")
        path = build_dataset(
            out,
            image_sets=images,
            video_sets=videos,
            backgrounds=backgrounds,
            names=chosen,
            clips_per_foreground=clips_per_foreground,
            frames=frames,
            height=height,
            width=width,
            masks=masks,
            sam2_model=sam2,
            sam2_checkpoint_dir=Settings().checkpoint_dir,
            seed=seed,
            transparent=transparent,
            strands=strands,
            object_blur_p=object_blur,
            codec_p=codec,
            workers=workers,
        )
    typer.echo(f"dataset written to {path}")


def _check_foregrounds(sets: list[Path], names: list[str] | None, count: int) -> None:
    """Something to composite, checked before OUT is made: the build said "ValueError: no
    foregrounds ..." (exit 1). `sets`: the --images and --videos folders; `count`: the
    foregrounds in them (of `names`, where given) and those --transparent and --strands make."""
    if count:
        return
    if names is not None and sets:
        shown = ", ".join(str(root) for root in sets)
        raise typer.BadParameter(
            f"no foregrounds named {', '.join(names)} in {shown}", param_hint="'--names'"
        )
    raise typer.BadParameter(
        f"no foregrounds in {', '.join(str(root) for root in sets)}"
        if sets
        else "give foregrounds to composite: an --images or --videos set, or --transparent or "
        "--strands objects",
        param_hint="'--images' / '--videos' / '--transparent' / '--strands'",
    )


@contextlib.contextmanager
def _removed_on_failure(out: Path) -> Iterator[None]:
    """A dataset command that fails (or is stopped: Ctrl-C, a `kill`, a closed terminal)
    leaves nothing in `out`, new or empty before it, so running it again is not refused for
    the half-written files, nor are they taken for a dataset."""
    existed = out.exists()
    try:
        with _quit_on_signals():
            yield
    except BaseException as exc:
        if not existed:
            shutil.rmtree(out, ignore_errors=True)
        elif out.is_dir():  # it was empty (_check_out)
            for child in out.iterdir():
                if child.is_dir():
                    shutil.rmtree(child)
                else:
                    child.unlink()
        if isinstance(exc, KeyboardInterrupt):
            typer.echo(f"error: interrupted; nothing is left in {out}", err=True)
            raise typer.Exit(INTERRUPTED) from None
        raise


@dataset_app.command("compress")
def dataset_compress(
    dataset: Path = DATASET,
    out: Path = typer.Argument(..., help="Folder for the copy (must not exist)."),
    crf: int = typer.Option(23, min=0, max=51, help="libx264 CRF: 18 fine, 23 default, 30 poor."),
) -> None:
    """Copy a dataset with its clips through H.264 4:2:0, to measure a head on footage as it
    arrives (the true alphas are unchanged)."""
    from vidmatte.train.dataset import compressed_copy

    if out.exists():
        raise typer.BadParameter(f"{out} exists; choose a new folder")
    _no_file_in_the_way(out, "'OUT'")
    with _removed_on_failure(out), _clips_checked():
        path = compressed_copy(dataset, out, crf)
    typer.echo(f"dataset written to {path}")


@dataset_app.command("review")
def dataset_review(
    dataset: Path = DATASET,
    decisions: Path = typer.Option(
        None,
        exists=True,
        dir_okay=False,
        help="accept/reject list: lines '<clip> accept|reject'.",
    ),
) -> None:
    """Write a contact sheet per clip and apply an accept/reject list."""
    from vidmatte.train.dataset import DecisionError, clip_folders, review

    _AT_WORK.set()
    try:
        with _clips_checked():
            sheets = review(dataset, decisions)
    except DecisionError as exc:  # a decision line it cannot apply: nothing was applied
        raise typer.BadParameter(str(exc), param_hint="'--decisions'") from exc
    kept = clip_folders(dataset)
    typer.echo(
        f"{len(kept)} of {len(sheets)} clips accepted; contact sheets in {dataset / 'review'}"
    )


def _check_run_folder(out: Path) -> None:
    """A --out whose weights no checkpoint there trained (the shipped models/, an exported
    head) would have them overwritten by a run started afresh: refused before any work."""
    weights = out / "matting_head.safetensors"
    if weights.is_file() and not (out / "checkpoint.pt").is_file():
        raise typer.BadParameter(
            f"{out} holds weights {weights} and no checkpoint.pt to go on from: training "
            "would overwrite them; choose another --out (or move the weights away)",
            param_hint="'--out'",
        )


DEFAULT_CROP = 256


def _training_crop(dataset: Path, crop: int | None, every_nth: int) -> int:
    """The crop side to train with: --crop, at most the shorter side of the clips trained on
    (a larger crop is scaled up from the frame: --crop 4096 of 64x64 clips took 24 GB, then
    the OOM killer ended the run); without --crop, DEFAULT_CROP or that side if less."""
    from vidmatte.train.dataset import clip_side
    from vidmatte.train.trainer import training_folders

    side, smallest = min((clip_side(f), f) for f in training_folders(dataset, every_nth))
    if crop is None:
        return min(DEFAULT_CROP, side)
    if crop > side:
        raise typer.BadParameter(
            f"{crop} px is more than the clips' shorter side ({side} px in {smallest}): give "
            f"--crop {side} or less",
            param_hint="'--crop'",
        )
    return crop


@app.command()
def train(
    dataset: Path = DATASET,
    out: Path = typer.Option(
        Path("runs/head"), help="Run folder (checkpoint, loss plot, weights)."
    ),
    steps: int = typer.Option(2000, min=1),
    batch_size: int = typer.Option(4, min=1),
    crop: int | None = typer.Option(
        None,
        min=32,
        help=f"Training crop side in pixels [default: {DEFAULT_CROP}, or the clips' shorter "
        "side where that is less].",
        show_default=False,
    ),
    lr: float = typer.Option(2e-3, min=1e-9, help="Learning rate (above 0)."),
    every_nth: int = typer.Option(1, min=1, help="Use every Nth frame of each clip."),
    seed: int = typer.Option(0),
    device: str = typer.Option(
        None, help="cpu, cuda or cuda:N (default: cuda when available) [env VIDMATTE_DEVICE]."
    ),
    time_limit: float = typer.Option(None, min=0.01, help="Wall-clock budget in minutes."),
    sam_features: bool = typer.Option(
        False, help="Also feed SAM2's feat_s0/feat_s1 (a dataset built with --masks sam2)."
    ),
) -> None:
    """Train the matting head (resumes from the run folder's checkpoint; a finished run is
    left as it is). Ctrl-C stops it after the step in hand, with a checkpoint to go on from."""
    from vidmatte.matte.head import HeadConfig
    from vidmatte.train.dataset import feature_channels
    from vidmatte.train.trainer import Diverged, Stopped, TrainConfig
    from vidmatte.train.trainer import train as run

    _check_run_folder(out)
    device = _checked_device(device)
    head_config = HeadConfig()
    if sam_features:
        with _clips_checked():
            channels = feature_channels(dataset)
        if not channels:
            raise typer.BadParameter(f"{dataset} has no SAM2 features: build it with --masks sam2")
        head_config = HeadConfig(
            use_sam_features=True,
            feat_s0_channels=channels["feat_s0"],
            feat_s1_channels=channels["feat_s1"],
        )
    with _new_out(out), _stop_on_signals() as interrupt, _clips_checked():
        # --out first: a file there is named before a --crop too large.
        crop = _training_crop(dataset, crop, every_nth)
        config = TrainConfig(
            steps=steps, batch_size=batch_size, crop=crop, lr=lr, every_nth=every_nth, seed=seed
        )
        interrupt.doing = "stopping after this step, with a checkpoint"
        # The checkpoint is replaced whole (trainer._save_checkpoint), so the last one stays.
        interrupt.kept = "keeping only the last checkpoint saved: the steps since are lost"
        try:
            weights = run(
                dataset,
                out,
                config,
                head_config,
                device=device,
                time_limit_s=time_limit * 60 if time_limit else None,
                stop=interrupt.event.is_set,
            )
        except Diverged as exc:
            raise typer.BadParameter(str(exc), param_hint="'--lr'") from exc
        except Stopped as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(INTERRUPTED) from exc
    typer.echo(f"weights: {weights}")


@app.command("eval")
def evaluate(
    dataset: Path = DATASET,
    weights: Path = typer.Option(None, help="Head weights (default: models/matting_head)."),
    out: Path = typer.Option(Path("runs/eval"), help="Where the CSV goes (the table is printed)."),
    methods: str = typer.Option(
        "raw,guided,closed_form,head_plate",
        help="head_plate is the default (best edges with the background plate); also: head (no "
        "plate), head_fast, head_noprev, rvm (RVM needs the bench extra).",
    ),
) -> None:
    """Every metric for the head and the baselines on the same masks; prints a table, writes CSV."""
    from vidmatte.train.evaluate import BadArgument
    from vidmatte.train.evaluate import evaluate as run

    chosen = [m.strip() for m in methods.split(",") if m.strip()]
    _AT_WORK.set()
    try:
        with _new_out(out):  # removed again if a method or the weights are refused
            run(dataset, weights, out, methods=chosen)
    except BadArgument as exc:  # checked before any method runs
        hint = "'DATASET'" if exc.argument == "dataset" else f"'--{exc.argument}'"
        raise typer.BadParameter(str(exc), param_hint=hint) from exc


def main() -> None:
    """The `vidmatte` command. What a user's input can cause beyond the checks above (a file
    that cannot be read, a folder in another layout, a value a library refuses) ends in one
    `error:` line and exit status 1, not a traceback."""
    try:
        app()
    except KeyboardInterrupt:  # before typer read the arguments (_Commands says those after)
        typer.echo("error: interrupted while starting", err=True)
        raise SystemExit(INTERRUPTED) from None
    except SettingError as exc:  # names the variable: its type would say nothing more
        typer.echo(f"error: {exc}", err=True)
        raise SystemExit(2) from exc
    except (OSError, ValueError) as exc:
        typer.echo(f"error: {_error_line(exc)}", err=True)
        raise SystemExit(1) from exc


def _error_line(exc: OSError | ValueError) -> str:
    """The error in words that name the path and the fix where they are known."""
    path = getattr(exc, "filename", None)
    if isinstance(exc, FileExistsError) and path and Path(path).is_file():
        return f"{path} is a file: give a folder"
    if is_disk_full(exc):
        return f"no space left on the disk of {path or tempfile.gettempdir()}"
    return f"{type(exc).__name__}: {str(exc)[:500]}"


if __name__ == "__main__":
    main()
