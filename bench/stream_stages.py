"""Where a realistic stream's time goes: CPU microseconds per line, stage by stage.

    python bench/stream_stages.py [--lines 20000]

For each language it takes a fresh `realistic_stream` (see ``stream.py``) and times,
in this process, with CPU time (``time.process_time``, so other jobs on the machine
do not count), the stages `Classifier.predict` runs on each line, through public
functions only:

- reading the line's codes (``text_record``: status, reply code, command);
- normalising it when every token is new, and again when every token is known;
- scoring its distinct normalised wordings (model and rules), spread over the lines:
  ``predict_records`` of a new Classifier minus that of one that knows them all;
- deciding with the codes and building the predictions: ``predict_records`` of a
  Classifier that knows every wording, minus normalising known tokens;

and then the whole of ``Classifier.predict`` on another fresh stream, cold. The
README's speed section quotes this table.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

from stream import LANGUAGES, realistic_stream

from bounce_ml import Classifier
from bounce_ml.mail.smtp import first_rejection, text_record
from bounce_ml.text.normalize import normalize_text


def _per_line(lines: int, work: Callable[[], Any]) -> float:
    started = time.process_time()
    work()
    return (time.process_time() - started) / lines * 1e6


def stages(lang: str, lines: int) -> dict[str, float]:
    """CPU µs per line of each stage, and of the whole, for one language."""
    texts, _ = realistic_stream(lang, lines, seed=11)
    warm_up = ["warm-up: 用户不存在 user unknown"]  # the model loaded, the converters built
    records: list[Any] = []
    result: dict[str, float] = {}

    def normalise() -> None:
        for record in records:
            normalize_text(first_rejection(record.text))

    result["read codes"] = _per_line(lines, lambda: records.extend(map(text_record, texts)))
    result["normalise, fresh tokens"] = _per_line(lines, normalise)
    known_tokens = _per_line(lines, normalise)
    result["normalise, known tokens"] = known_tokens
    new, knowing = Classifier(), Classifier()
    new.predict(warm_up)
    knowing.predict_records(records)
    all_known = _per_line(lines, lambda: knowing.predict_records(records))
    result["score distinct wordings"] = _per_line(lines, lambda: new.predict_records(records))
    result["score distinct wordings"] -= all_known
    result["decide with codes, build predictions"] = all_known - known_tokens
    fresh, _ = realistic_stream(lang, lines, seed=12)
    cold = Classifier()
    cold.predict(warm_up)
    result["whole predict(), cold"] = _per_line(lines, lambda: cold.predict(fresh))
    wordings = {normalize_text(first_rejection(record.text)) for record in records}
    result["distinct wordings per 100 lines"] = len(wordings) / lines * 100
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=20_000)
    args = parser.parse_args()
    table = {lang: stages(lang, args.lines) for lang in LANGUAGES}
    print("| stage | " + " | ".join(f"{lang}, µs/line" for lang in LANGUAGES) + " |")
    print("|---|" + "---|" * len(LANGUAGES))
    for stage in table[LANGUAGES[0]]:
        cells = " | ".join(f"{table[lang][stage]:.2f}" for lang in LANGUAGES)
        print(f"| {stage} | {cells} |")


if __name__ == "__main__":
    main()
