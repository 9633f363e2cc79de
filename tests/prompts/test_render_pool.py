"""The render time limit: renders that can loop run on a pool thread that is interrupted."""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import AsyncIterator, Callable
from typing import TypeVar

import pytest

from promptlane_client.errors import MissingVariablesError, RenderBudgetError
from promptlane_client.render import PromptContent, RenderBudget
from prompts.render_pool import RenderPool, _Job, render_prompt_async

T = TypeVar("T")
NESTED_LOOPS = "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}"
SHORT = RenderBudget(max_seconds=0.3)


def text(template: str, fmt: str = "jinja2") -> PromptContent:
    return PromptContent(kind="text", template_format=fmt, template=template)  # type: ignore[arg-type]


@pytest.fixture
async def pool() -> AsyncIterator[RenderPool]:
    """One thread, so every render after the first runs on the thread it interrupted."""
    made = RenderPool(threads=1)
    yield made
    made.shutdown()


class CountingPool(RenderPool):
    """Counts the renders handed to the pool."""

    def __init__(self) -> None:
        super().__init__(threads=1)
        self.runs = 0

    async def run(self, fn: Callable[[], T], budget: RenderBudget) -> T:
        self.runs += 1
        return await super().run(fn, budget)


async def test_a_render_past_its_time_limit_is_interrupted_and_the_thread_reused(
    pool: RenderPool,
) -> None:
    threads: list[int] = []

    def looping() -> None:
        threads.append(threading.get_ident())
        while True:
            pass

    with pytest.raises(RenderBudgetError) as err:
        await pool.run(looping, SHORT)
    assert err.value.limit == "max_seconds"
    assert err.value.detail == "rendering took longer than 0.3 s"

    threads.append(await pool.run(threading.get_ident, SHORT))
    assert threads[0] == threads[1]  # the interrupted thread carries on with the next render
    rendered = await render_prompt_async(text("{{ a }}!"), {"a": "fine"}, SHORT, pool=pool)
    assert rendered.text == "fine!"


async def test_nested_loops_are_refused_while_the_event_loop_runs(pool: RenderPool) -> None:
    render = asyncio.create_task(render_prompt_async(text(NESTED_LOOPS), {}, SHORT, pool=pool))
    ticks = 0
    for _ in range(5):
        await asyncio.sleep(0.01)
        ticks += 1
        assert not render.done()  # the loop ticks while the render is in progress
    with pytest.raises(RenderBudgetError, match=r"took longer than 0\.3 s"):
        await render
    assert ticks == 5


async def test_mustache_sections_over_a_big_list_are_refused(pool: RenderPool) -> None:
    template = "{{#xs}}{{#xs}}{{#xs}}{{/xs}}{{/xs}}{{/xs}}"  # a billion empty iterations
    with pytest.raises(RenderBudgetError, match="took longer"):
        await render_prompt_async(
            text(template, "mustache"), {"xs": list(range(1000))}, SHORT, pool=pool
        )


async def test_linear_mustache_renders_inline_and_the_rest_on_the_pool() -> None:
    counting = CountingPool()
    try:
        variables = {"name": "Ada", "xs": [1, 2]}
        linear = await render_prompt_async(
            text("Hi {{name}}", "mustache"), variables, pool=counting
        )
        assert (linear.text, counting.runs) == ("Hi Ada", 0)
        looping = text("{{#xs}}{{.}}{{/xs}}", "mustache")
        assert (await render_prompt_async(looping, variables, pool=counting)).text == "12"
        assert (await render_prompt_async(text("{{ name }}"), variables, pool=counting)).text
        assert counting.runs == 2
    finally:
        counting.shutdown()


async def test_render_errors_come_back_from_the_pool_as_they_are(pool: RenderPool) -> None:
    with pytest.raises(MissingVariablesError):
        await render_prompt_async(text("{{ a }}"), {}, SHORT, pool=pool)
    with pytest.raises(RenderBudgetError, match="longer than 10 characters"):
        await render_prompt_async(text("{{ a }}"), {"a": "x" * 11}, RenderBudget(10), pool=pool)


async def test_a_late_interrupt_never_hits_the_next_render(pool: RenderPool) -> None:
    """Renders that end right at their deadline, each followed by one on the same thread."""
    rng = random.Random(7)
    budget = RenderBudget(max_seconds=0.005)
    patient = RenderBudget(max_seconds=30)

    def busy(seconds: float) -> Callable[[], str]:
        def spin() -> str:
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                pass
            return "done"

        return spin

    outcomes: dict[str, int] = {"done": 0, "interrupted": 0}
    async with asyncio.timeout(60):  # a pool thread killed by a stray interrupt hangs the pool
        for _ in range(150):
            try:
                outcomes[await pool.run(busy(rng.uniform(0.003, 0.007)), budget)] += 1
            except RenderBudgetError:
                outcomes["interrupted"] += 1
            assert await pool.run(busy(0.002), patient) == "done"
    # Both sides of the deadline were hit.
    assert outcomes["done"]
    assert outcomes["interrupted"]


def blocked_job_thread(job: _Job) -> tuple[threading.Thread, threading.Event, list[str]]:
    """Start a thread that begins `job`, then blocks in C (where no interrupt is delivered)."""
    started, gate, seen = threading.Event(), threading.Event(), []

    def target() -> None:
        job.begin()
        started.set()
        try:
            gate.wait()
            total = 0
            for i in range(10_000):  # bytecodes: a pending interrupt is delivered here
                total += i
            seen.append("clean")
        except BaseException as exc:
            seen.append(type(exc).__name__)

    thread = threading.Thread(target=target)
    thread.start()
    started.wait()
    return thread, gate, seen


def test_an_interrupt_is_delivered_at_the_threads_next_bytecode() -> None:
    job = _Job(30)
    thread, gate, seen = blocked_job_thread(job)
    job.interrupt()
    gate.set()
    thread.join()
    assert seen == ["_Interrupted"]
    assert job.end() is True


def test_ending_a_job_drops_an_interrupt_not_yet_delivered() -> None:
    job = _Job(30)
    thread, gate, seen = blocked_job_thread(job)
    job.interrupt()  # pending: the thread is blocked in C
    assert job.end() is True
    job.interrupt()  # a late watchdog: the job is done, nothing is sent
    gate.set()
    thread.join()
    assert seen == ["clean"]


def test_budgets_must_be_positive() -> None:
    for bad in ({"max_chars": 0}, {"max_seconds": 0}, {"max_seconds": -1.0}):
        with pytest.raises(ValueError, match="render budget"):
            RenderBudget(**bad)  # type: ignore[arg-type]
