"""The in-process executor tells its listeners when a run's task ends, however it ends."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest

from evals.runs.executor import InProcessExecutor
from evals.runs.runner import Runner


class FakeRunner:
    """Executes a run by waiting for its gate; run 13 fails."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()

    async def execute(self, run_id: int) -> None:
        await self.gate.wait()
        if run_id == 13:
            raise RuntimeError("the run broke")

    async def claimable(self) -> list[int]:
        return []


async def test_listeners_hear_of_every_ended_task_and_a_failing_one_spoils_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake = FakeRunner()
    executor = InProcessExecutor(cast(Runner, fake))
    heard: list[str] = []

    def broken() -> None:
        raise ValueError("listener bug")

    executor.on_task_done += [lambda: heard.append("first"), broken, lambda: heard.append("last")]
    executor.submit(7)
    executor.submit(13)
    executor.submit(7)  # already going: not a second task
    await asyncio.sleep(0)
    assert heard == []  # nothing ended yet
    tasks: list[Any] = list(executor.tasks.values())
    assert len(tasks) == 2
    fake.gate.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    await asyncio.sleep(0)
    assert heard == ["first", "last", "first", "last"]
    assert executor.tasks == {}
    assert "a task-done listener failed" in caplog.text
