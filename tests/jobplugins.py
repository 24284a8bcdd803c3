"""Job handlers used only by the tests, loaded through the `job_modules` setting
(the same plug-in path a deployment uses). `test.slow_note` takes long enough to
be killed part-way; `test.flaky` fails on its first attempt; `test.quotes_an_answer`
fails with an answer's words in its message."""

import time

from cohear import audit
from cohear.jobs import JobContext, handler


@handler("test.slow_note")
def slow_note(ctx: JobContext) -> dict:
    steps = int(ctx.payload.get("steps", 20))
    for i in range(steps):
        time.sleep(float(ctx.payload.get("step_seconds", 0.25)))
        ctx.progress((i + 1) / steps)
    with ctx.store.transaction() as conn:
        audit.record(conn, None, "test.note_written", "job", ctx.job_id,
                     detail=f"attempt {ctx.attempt}")
        ctx.complete(conn, {"attempt": ctx.attempt})
    return {"attempt": ctx.attempt}


@handler("test.flaky")
def flaky(ctx: JobContext) -> dict:
    if ctx.attempt == 1:
        raise RuntimeError("the first attempt always fails")
    return {"attempt": ctx.attempt}


@handler("test.quotes_an_answer")
def quotes_an_answer(ctx: JobContext) -> dict:
    """Fails the way a library does when it cannot handle some text: its message quotes
    the text, here an answer's words (payload: answer_id)."""
    row = ctx.store.one("SELECT text FROM answer_texts WHERE answer_id = ? ORDER BY id DESC",
                        (ctx.payload["answer_id"],))
    raise ValueError(f"could not process {row['text']!r}")
