"""The `vidmatte` command: serve the app, fetch weights, matte videos in batch, train, evaluate."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import typer
from rich.progress import (BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn,
                           TransferSpeedColumn)

from vidmatte.config import Settings

app = typer.Typer(help="Interactive video matting with SAM2 and a matting head.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
weights_app = typer.Typer(help="SAM2 checkpoints.", no_args_is_help=True)
app.add_typer(weights_app, name="weights")


def _settings(**overrides) -> Settings:
    base = Settings()
    return dataclasses.replace(base, **{k: v for k, v in overrides.items() if v is not None})


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    data_dir: Path = typer.Option(None, help="Where projects and results live [env VIDMATTE_DATA_DIR]."),
    sam2: str = typer.Option(None, help="SAM2 size: tiny, small, base_plus, large, or test-tiny "
                                        "(shrunk, random weights) [default: small]."),
    random_init: bool = typer.Option(False, "--random-init", help="Real SAM2 size, random weights."),
    checkpoint_dir: Path = typer.Option(None, help="Where SAM2 checkpoints are."),
    head: Path = typer.Option(None, help="Matting head weights (.safetensors)."),
    device: str = typer.Option(None, help="cuda or cpu [default: cuda when available]."),
) -> None:
    """Start the API and the editor."""
    import uvicorn

    from vidmatte.api.app import build_services, create_app
    from vidmatte.segment.models import CheckpointMissing

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    settings = _settings(data_dir=data_dir, sam2_model=sam2, checkpoint_dir=checkpoint_dir,
                         head_path=head, device=device, random_init=random_init or None)
    try:
        services = build_services(settings)
    except CheckpointMissing as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    uvicorn.run(create_app(settings, services), host=host, port=port, log_level="info")


@weights_app.command("download")
def weights_download(
    names: list[str] = typer.Argument(None, help="tiny, small, base_plus, large [default: small]"),
    dir: Path = typer.Option(None, "--dir", help="Checkpoint folder [env VIDMATTE_CHECKPOINT_DIR]."),
    url: str = typer.Option(None, help="Download from this URL instead (a mirror)."),
    sha256: str = typer.Option(None, help="Expected SHA-256 of the file."),
) -> None:
    """Download official SAM2.1 checkpoints, with a progress bar and a SHA-256 check."""
    from vidmatte.segment.models import ChecksumMismatch, download

    folder = dir or Settings().checkpoint_dir
    for name in names or ["small"]:
        columns = (TextColumn(f"[bold]{name}"), BarColumn(), DownloadColumn(),
                   TransferSpeedColumn(), TimeRemainingColumn())
        with Progress(*columns) as bar:
            task = bar.add_task(name, total=None)
            try:
                path = download(name, folder, url=url, sha256=sha256,
                                progress=lambda done, total: bar.update(
                                    task, completed=done, total=total or None))
            except (ChecksumMismatch, ValueError, OSError) as exc:
                typer.echo(f"error: {exc}", err=True)
                raise typer.Exit(1) from exc
        typer.echo(f"{name}: {path}")



if __name__ == "__main__":
    app()
