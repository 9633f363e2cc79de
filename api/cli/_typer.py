"""The CLI's Typer app class: help that reads like every other Unix tool's.

Typer 0.29 renders a flag's help with a value type (`--json <bool>`, as if it took a value)
and a required argument in braces on the usage line (`{name}`). Every command of the CLI is
made by `Cli`, whose commands show flags bare and arguments as click does (`NAME`, `[NAME]`
when optional), in the usage line, the arguments table and error messages alike.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption


class _Argument(TyperArgument):
    @property
    def display_name_raw(self) -> str:
        return self.metavar if self.metavar is not None else str(self.name).upper()

    def _usage_display_name(self) -> str:
        name = self.display_name_raw if self.required else f"[{self.display_name_raw}]"
        return name + ("..." if self.nargs != 1 else "")


class _Option(TyperOption):
    def display_type_rich(self, ctx: Any) -> str | None:
        if self.is_flag and not self.count:
            return None  # a flag takes no value: nothing to show after its name
        return super().display_type_rich(ctx)


def _plain(param: Any) -> Any:
    """Give a parameter the display of this module (same state: only help output changes)."""
    if type(param) is TyperArgument:
        param.__class__ = _Argument
    elif type(param) is TyperOption:
        param.__class__ = _Option
    return param


class Command(TyperCommand):
    """A Typer command whose help shows flags without a type and arguments without braces."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.params = [_plain(param) for param in self.params]

    def get_help_option(self, ctx: Any) -> Any:
        """Return `--help`, shown as the flag it is."""
        return _plain(super().get_help_option(ctx))


class Group(TyperGroup):
    """A Typer group (a command with subcommands) with the same help display as `Command`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.params = [_plain(param) for param in self.params]

    def get_help_option(self, ctx: Any) -> Any:
        """Return `--help`, shown as the flag it is."""
        return _plain(super().get_help_option(ctx))


class Cli(typer.Typer):
    """`typer.Typer` whose groups are `Group`s and whose commands are `Command`s."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("cls", Group)
        super().__init__(*args, **kwargs)

    def command(self, *args: Any, **kwargs: Any) -> Callable[[Any], Any]:
        """Register a command (as `typer.Typer.command`), made with `Command` by default."""
        kwargs.setdefault("cls", Command)
        return super().command(*args, **kwargs)
