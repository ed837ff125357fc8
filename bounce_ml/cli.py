"""The ``bounce-ml`` command line: it only wires the modules together.

Results go to standard output; progress, warnings and summaries to standard
error. A mistake in the user's input is one line on standard error and exit
code 1 (2 for a wrong command line), never a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TextIO

import typer

from bounce_ml import config
from bounce_ml.errors import BounceMLError
from bounce_ml.signals import clean_exit_on_signals

if TYPE_CHECKING:
    from bounce_ml.mail.records import BounceRecord

app = typer.Typer(
    help="Say what went wrong with a bounced email, how sure, and what to do.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
data_app = typer.Typer(
    help="Check and regenerate the labeled corpus in data/.", no_args_is_help=True
)
app.add_typer(data_app, name="data")
model_app = typer.Typer(
    help="The current model and the previous ones train keeps.", no_args_is_help=True
)
app.add_typer(model_app, name="model")
feedback_app = typer.Typer(
    help="Labels you taught bounce-ml, kept in the feedback store.", no_args_is_help=True
)
app.add_typer(feedback_app, name="feedback")
spark_app = typer.Typer(
    help="Classify large files on Apache Spark (needs the extra bounce-ml[spark]).",
    no_args_is_help=True,
)
app.add_typer(spark_app, name="spark")


class OutputFormat(str, Enum):
    table = "table"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"


class SparkFormat(str, Enum):
    parquet = "parquet"
    csv = "csv"
    jsonl = "jsonl"


class SplitBy(str, Enum):
    group = "group"
    source = "source"


class Lang(str, Enum):
    en = "en"
    zh = "zh"


def _error(message: str) -> None:
    typer.echo(f"bounce-ml: error: {message}", err=True)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn a BounceMLError (a user's mistake) into one line on stderr and exit code 1;
    SIGTERM and SIGHUP stop the command with its clean-up done (`bounce_ml.signals`)."""
    try:
        with clean_exit_on_signals():
            yield
    except BounceMLError as exc:
        _error(str(exc))
        raise typer.Exit(1) from None
    except BrokenPipeError:  # `bounce-ml predict ... | head`
        sys.stderr.close()
        raise typer.Exit(0) from None
    except OSError as exc:  # a path the user gave cannot be opened or written
        _error(str(exc) if exc.filename is None else f"{exc.filename}: {exc.strerror or exc}")
        raise typer.Exit(1) from None


DataDirOption = Annotated[
    Path,
    typer.Option(
        "--data-dir", help="Project data folder (corpus, rules, taxonomy, params).", file_okay=False
    ),
]
ModelOption = Annotated[
    Path | None,
    typer.Option(
        "--model",
        help="Directory of a trained model (default: the packaged models/).",
        file_okay=False,
    ),
]

FeedbackOption = Annotated[
    Path | None,
    typer.Option(
        "--feedback",
        help="Feedback store (SQLite) file; default $BOUNCE_ML_FEEDBACK or "
        "~/.local/share/bounce-ml/feedback.sqlite3.",
        dir_okay=False,
    ),
]


def _feedback_path(path: Path | None) -> Path:
    from bounce_ml.feedback.store import default_feedback_path

    return path or default_feedback_path()


@contextmanager
def _output_stream(output: Path | None, overwrite: bool) -> Iterator[TextIO]:
    """Standard output, or the --output file (see `bounce_ml.outputfile`)."""
    if output is None:
        yield sys.stdout
        return
    from bounce_ml.outputfile import output_file

    with output_file(output, overwrite=overwrite) as stream:
        yield stream


def _format_for(fmt: OutputFormat | None, output: Path | None) -> str:
    from bounce_ml.predict.output import EXTENSIONS

    if fmt is not None:
        return fmt.value
    if output is not None:
        if output.suffix.lower() not in EXTENSIONS:
            raise BounceMLError(
                f"{output}: cannot tell the format from the extension; give --format"
            )
        return EXTENSIONS[output.suffix.lower()]
    return "table"


def _text_records(texts: list[str]) -> Iterator[BounceRecord]:
    """Texts from the command line (source ``argv``), or one message per line of standard
    input (source ``-``), with their line or argument number."""
    from bounce_ml.mail.smtp import text_record

    if texts:
        for number, text in enumerate(texts, start=1):
            yield text_record(text, source="argv", index=number)
        return
    if sys.stdin is None or sys.stdin.isatty():
        raise BounceMLError("nothing to classify: give TEXT, --input PATH, or pipe text on stdin")
    read_any = False
    # Bytes that are not UTF-8 become lone surrogates here; the writer replaces them and
    # notes it in the row (as it does for argv, which Python decodes the same way).
    for number, raw in enumerate(sys.stdin.buffer, start=1):
        line = raw.decode("utf-8", errors="surrogateescape")
        if line.strip():
            read_any = True
            yield text_record(line.rstrip("\r\n"), source="-", index=number)
    if not read_any:
        raise BounceMLError("nothing to classify: standard input was empty")


@app.command()
def predict(
    texts: Annotated[
        list[str] | None,
        typer.Argument(help="Bounce texts to classify. Without any, lines of standard input."),
    ] = None,
    input_path: Annotated[
        str | None,
        typer.Option(
            "--input",
            "-i",
            help="An .eml, mbox, Maildir or folder of .eml, CSV, JSONL or text file; '-' is stdin.",
        ),
    ] = None,
    fmt: Annotated[
        OutputFormat | None,
        typer.Option(
            "--format", "-f", help="Output format (default: from --output's extension, else table)."
        ),
    ] = None,
    lang: Annotated[Lang, typer.Option(help="Language of the action and advice.")] = Lang.en,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write results to this file instead of stdout."),
    ] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace --output if it already exists.")] = False,
    text_column: Annotated[str, typer.Option(help="CSV column holding the bounce text.")] = "text",
    text_field: Annotated[str, typer.Option(help="JSONL field holding the bounce text.")] = "text",
    model: ModelOption = None,
    rules_only: Annotated[
        bool, typer.Option(help="Ignore the model; let the rules decide.")
    ] = False,
    quiet: Annotated[
        bool,
        typer.Option(
            "--quiet",
            "-q",
            help="No progress bar, warnings or summary; only a count of skipped items, if any.",
        ),
    ] = False,
    strict: Annotated[
        bool, typer.Option(help="Exit non-zero if any message or row could not be read.")
    ] = False,
    encoding: Annotated[
        str | None,
        typer.Option(
            help="Encoding of CSV, JSONL and text input (default: detected, e.g. UTF-8, GBK, Big5)."
        ),
    ] = None,
    escape_formulas: Annotated[
        bool,
        typer.Option(
            help="In CSV output, prefix cells starting with = + - @ with ' so that a "
            "spreadsheet shows them as text instead of running them as formulas."
        ),
    ] = True,
) -> None:
    """Classify bounce texts or bounce emails and print label, confidence, action and advice."""
    from bounce_ml.predict.batch import BatchRun
    from bounce_ml.predict.classifier import Classifier
    from bounce_ml.predict.output import result_row, write_rows

    with user_errors():
        if texts and input_path:
            raise BounceMLError("give either TEXT arguments or --input, not both")
        codec = None
        if encoding:
            from bounce_ml.inputfile import check_encoding

            codec = check_encoding(encoding)
        classifier = Classifier(model_dir=model, use_model=not rules_only, lang=lang.value)
        if classifier.rules_only_reason:
            _warn(classifier.rules_only_reason)
        run = BatchRun(classifier, report=(lambda message: None) if quiet else _warn)
        if input_path is None:
            items = _text_records(texts or [])
        else:
            items = run.read(
                input_path, text_column=text_column, text_field=text_field, encoding=codec
            )
        out_format = _format_for(fmt, output)
        progress_off = quiet or (output is None and input_path is None)
        with _output_stream(output, overwrite) as stream, _progress(progress_off) as advance:
            results = run.predict(items, on_batch=advance)
            rows = (result_row(*result) for result in results)
            written = write_rows(rows, out_format, stream, escape_formulas=escape_formulas)
        if quiet and run.problems:
            _warn(f"{run.problems} unreadable items skipped (run without --quiet for details)")
        elif not quiet and (run.problems or output is not None or input_path is not None):
            _warn(run.summary(written))
        if written == 0 or (strict and run.problems):
            raise typer.Exit(1)


def _warn(message: str) -> None:
    typer.echo(f"bounce-ml: {message}", err=True)


@contextmanager
def _progress(quiet: bool) -> Iterator[Callable[[int], None]]:
    """A progress counter on stderr when it is a terminal; otherwise a no-op."""
    if quiet or not sys.stderr.isatty():
        yield lambda n: None
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (SpinnerColumn(), TextColumn("{task.completed} classified"), TimeElapsedColumn())
    with Progress(*columns, transient=True) as progress:
        task = progress.add_task("classify", total=None)
        yield lambda n: progress.advance(task, n)


@app.command()
def labels(
    fmt: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="Output format.")
    ] = OutputFormat.table,
) -> None:
    """List the bounce categories with their code, names, severity and action."""
    import json

    from bounce_ml.labels.taxonomy import default_taxonomy

    with user_errors():
        rows = [
            {
                "label": label.id,
                "code": label.code,
                "name_en": label.name_en,
                "name_zh": label.name_zh,
                "severity": label.severity,
                "retry": label.retry,
                "action": label.action,
            }
            for label in default_taxonomy().labels.values()
        ]
    if fmt is OutputFormat.table:
        for row in rows:
            typer.echo(
                f"{row['label']:<18} {row['code']}  {row['severity']:<7} "
                f"{row['name_en']} / {row['name_zh']}: {row['action']}"
            )
    elif fmt is OutputFormat.json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        from bounce_ml.predict.output import write_rows

        write_rows(rows, fmt.value, sys.stdout)


def _corpus_dir(data_dir: Path) -> Path:
    """``data_dir`` if it holds a corpus, else a clear error (a wheel ships none)."""
    if not (data_dir / "corpus").is_dir():
        raise BounceMLError(
            f"{data_dir}: no corpus/ folder here; an installed bounce-ml ships no corpus, "
            "so pass --data-dir with the data/ folder of a bounce-ml checkout"
        )
    return data_dir


def _output_dir(given: Path | None, default: Path, option: str) -> Path:
    """Where a command writes: ``given``, else ``default`` in a checkout, else an error,
    so that an installed bounce-ml never writes into its own package."""
    if given is not None:
        return given
    if not config.IN_CHECKOUT:
        raise BounceMLError(
            f"pass {option} DIR: an installed bounce-ml does not write into {default}"
        )
    return default


@app.command()
def train(
    add: Annotated[
        list[Path] | None,
        typer.Option(
            "--add",
            help="Extra labeled CSV (columns text,label[,lang,source,group]); repeatable.",
            exists=True,
            dir_okay=False,
            readable=True,
        ),
    ] = None,
    model: Annotated[
        Path | None,
        typer.Option(
            "--model", help="Directory to write the model to (default: models/).", file_okay=False
        ),
    ] = None,
    data_dir: DataDirOption = config.DATA_DIR,
    feedback: Annotated[
        Path | None,
        typer.Option(
            "--feedback",
            help="Also learn the labeled rows of this feedback store (SQLite file).",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Retrain the model on data/ plus any --add files and feedback rows; keep the old one."""
    from bounce_ml.feedback.store import FeedbackStore
    from bounce_ml.train.fit import train_model

    with user_errors():
        rows = None
        if feedback is not None:
            with FeedbackStore(feedback) as store:
                rows = store.labeled_rows()
        report = train_model(
            data_dir=_corpus_dir(data_dir),
            extra_files=add or [],
            model_dir=_output_dir(model, config.MODELS_DIR, "--model"),
            feedback=rows,
            feedback_path=feedback,
            progress=_warn,
        )
    typer.echo(report)


@app.command()
def evaluate(
    labeled: Annotated[
        Path | None,
        typer.Option(
            "--data",
            help="A labeled CSV to score with the saved model (default: grouped CV on the corpus).",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Folder for report.md, metrics.json and the heat map "
            "(default: reports/evaluation)."
        ),
    ] = None,
    model: ModelOption = None,
    folds: Annotated[
        int | None,
        typer.Option(help="Cross-validation folds (default from data/model.toml).", min=2),
    ] = None,
    compare: Annotated[
        bool, typer.Option(help="Also compare logistic regression with a calibrated linear SVM.")
    ] = False,
    split_by: Annotated[
        SplitBy,
        typer.Option(
            help="Keep together in one fold: a wording template (group), or a whole "
            "server/provider (source) to estimate accuracy on providers never seen."
        ),
    ] = SplitBy.group,
    baseline: Annotated[
        Path | None,
        typer.Option(
            help="Compare --model with this older model on --data: per-label changes, "
            "rows fixed and broken.",
            file_okay=False,
        ),
    ] = None,
    emails: Annotated[
        Path | None,
        typer.Option(
            "--emails",
            help="A folder of bounce emails with an expected.toml: print extraction and label "
            "accuracy per mail system instead.",
            exists=True,
            file_okay=False,
        ),
    ] = None,
) -> None:
    """Report accuracy, macro-F1, per-label scores and confusions for rules, model and both."""
    from bounce_ml.train.evaluate import run_evaluation

    if emails is not None:
        from bounce_ml.predict.classifier import Classifier
        from bounce_ml.train.emails import evaluate_emails, report

        with user_errors():
            results = evaluate_emails(emails, Classifier(model_dir=model))
        typer.echo(report(results, details=True))
        return
    with user_errors():
        if baseline is not None:
            from bounce_ml.train.compare import compare_models

            if labeled is None:
                raise BounceMLError("--baseline needs --data FILE: the labeled rows to compare on")
            comparison = compare_models(labeled, model or config.MODELS_DIR, baseline)
            typer.echo(comparison.render())
            return
        summary = run_evaluation(
            labeled_file=labeled,
            out_dir=_output_dir(out, config.REPORTS_DIR / "evaluation", "--out"),
            model_dir=model or config.MODELS_DIR,
            folds=folds,
            compare=compare,
            split_by=split_by.value,
        )
    typer.echo(summary)


@model_app.command("list")
def model_list(model: ModelOption = None) -> None:
    """List the current model and the previous ones, newest first."""
    from bounce_ml.train.history import list_models

    with user_errors():
        entries = list_models(model or config.MODELS_DIR)
    if not entries:
        typer.echo(f"no model in {model or config.MODELS_DIR}")
        return
    typer.echo(f"{'id':<20} {'trained':<26} {'rows':>6} {'feedback':>8} {'threshold':>9}")
    for entry in entries:
        typer.echo(
            f"{entry.id:<20} {entry.created:<26} {entry.rows:>6} {entry.feedback_rows:>8} "
            f"{entry.threshold:>9.2f}"
        )


@model_app.command("rollback")
def model_rollback(
    to: Annotated[
        str | None, typer.Option(help="Id of the previous model (default: the newest).")
    ] = None,
    model: ModelOption = None,
) -> None:
    """Put a previous model back; the current one is kept as a previous model."""
    from bounce_ml.train.history import rollback
    from bounce_ml.train.lock import model_dir_lock

    with user_errors():
        model_dir = _output_dir(model, config.MODELS_DIR, "--model")
        with model_dir_lock(model_dir):
            restored, archived = rollback(model_dir, to)
    kept = f"; the model it replaced is kept as {archived}" if archived else ""
    typer.echo(f"restored {restored} in {model_dir}{kept}")


@app.command()
def serve(
    host: Annotated[
        str | None,
        typer.Option(help="Address to bind (default 127.0.0.1: this machine only)."),
    ] = None,
    port: Annotated[int, typer.Option(help="TCP port.", min=0, max=65535)] = 8080,
    model: ModelOption = None,
    workers: Annotated[
        int, typer.Option(help="Worker processes; each loads the model once.", min=1)
    ] = 1,
    api_key_file: Annotated[
        Path | None,
        typer.Option(
            help="File holding the API key clients must send as 'Authorization: Bearer KEY' "
            "(or set BOUNCE_ML_API_KEY).",
            dir_okay=False,
        ),
    ] = None,
    max_body_bytes: Annotated[
        int | None, typer.Option(help="Largest request body (default 5 MiB).", min=1)
    ] = None,
    max_batch: Annotated[
        int | None,
        typer.Option(help="Most texts or messages in one request (default 1000).", min=1),
    ] = None,
    feedback: FeedbackOption = None,
) -> None:
    """Serve the HTTP API and the review page (needs the serve extra: bounce-ml[serve])."""
    with user_errors():
        try:
            from bounce_ml.serve.runner import serve as run_service
        except ImportError as exc:
            raise BounceMLError(
                f"the service needs the serve extra ({exc.name} is missing): "
                "pip install 'bounce-ml[serve]'"
            ) from None
        run_service(
            host=host,
            port=port,
            workers=workers,
            model_dir=model,
            api_key_file=api_key_file,
            feedback=feedback,
            max_body_bytes=max_body_bytes,
            max_batch=max_batch,
        )


@data_app.command("check")
def data_check(
    data_dir: DataDirOption = config.DATA_DIR,
) -> None:
    """Validate the corpus and print distinct wordings per label x language and per source."""
    from bounce_ml.corpus.check import check_report

    with user_errors():
        report, ok = check_report(_corpus_dir(data_dir))
    typer.echo(report)
    if not ok:
        raise typer.Exit(1)


@data_app.command("generate")
def data_generate(
    data_dir: DataDirOption = config.DATA_DIR,
) -> None:
    """Regenerate data/generated/ from the corpus and data/templates/shapes.toml."""
    from bounce_ml.corpus.variants import write_variants

    with user_errors():
        path, count = write_variants(_corpus_dir(data_dir))
    typer.echo(f"wrote {count} rows to {path}")


@app.command()
def review(
    input_path: Annotated[
        str,
        typer.Option(
            "--input",
            "-i",
            help="An .eml, mbox, Maildir or folder of .eml, CSV, JSONL or text file; '-' is stdin.",
        ),
    ],
    feedback: FeedbackOption = None,
    export: Annotated[
        Path | None,
        typer.Option(
            help="Also write the whole review queue to this CSV, with a label column to fill in."
        ),
    ] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace --export if it already exists.")] = False,
    below: Annotated[
        float,
        typer.Option(help="Queue answers whose top model probability is below this.", min=0, max=1),
    ] = 0.6,
    limit: Annotated[int, typer.Option(help="Wordings of the queue to print.", min=0)] = 20,
    text_column: Annotated[str, typer.Option(help="CSV column holding the bounce text.")] = "text",
    text_field: Annotated[str, typer.Option(help="JSONL field holding the bounce text.")] = "text",
    model: ModelOption = None,
) -> None:
    """Classify a batch and queue the unsure and unknown answers for a person to label."""
    from bounce_ml.feedback.review import queue_for_review, queue_table
    from bounce_ml.feedback.sheets import write_queue
    from bounce_ml.feedback.store import FeedbackStore
    from bounce_ml.predict.batch import BatchRun
    from bounce_ml.predict.classifier import Classifier

    with user_errors():
        classifier = Classifier(model_dir=model)
        rows = BatchRun(classifier, report=_warn).read(
            input_path, text_column=text_column, text_field=text_field
        )
        with FeedbackStore(_feedback_path(feedback)) as store:
            run = queue_for_review(store, classifier, rows, below)
            queue = store.review_queue(limit=None if export else limit)
            if export is not None:
                with _output_stream(export, overwrite) as stream:
                    write_queue(queue, stream)
            waiting = store.counts()[1]
            typer.echo(
                f"{run.classified} classified, {run.queued} queued for review in {store.path}; "
                f"{waiting} rows wait, most frequent wordings first:"
            )
        typer.echo(queue_table(queue[:limit]))
        if export is not None:
            typer.echo(
                f"wrote {len(queue)} wordings to {export}: fill in the label column, then "
                f"`bounce-ml feedback import {export}`"
            )


@feedback_app.command("import")
def feedback_import(
    sheet: Annotated[
        Path,
        typer.Argument(
            help="CSV with text and label columns (UTF-8, GBK or Big5).", dir_okay=False
        ),
    ],
    feedback: FeedbackOption = None,
    author: Annotated[str | None, typer.Option(help="Who labeled the sheet.")] = None,
) -> None:
    """Store the labels of a sheet: a filled-in `review --export` or any text,label CSV."""
    from bounce_ml.feedback.sheets import import_sheet
    from bounce_ml.feedback.store import FeedbackStore

    with user_errors(), FeedbackStore(_feedback_path(feedback)) as store:
        result = import_sheet(store, sheet, author=author)
        labeled, queued = store.counts()
        typer.echo(
            f"imported {result.labeled} labeled rows from {sheet} ({result.encoding}); "
            f"{result.blank} rows without a label skipped; {store.path} now holds "
            f"{labeled} labeled rows, {queued} waiting for review"
        )


@spark_app.command("predict")
def spark_predict(
    input_path: Annotated[
        Path,
        typer.Option(
            "--input",
            "-i",
            help="Parquet, CSV, JSONL or .eml file, or a folder of them (a Spark input path).",
        ),
    ],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Folder to write (Spark writes part files).")
    ],
    fmt: Annotated[
        SparkFormat, typer.Option("--format", "-f", help="Output format.")
    ] = SparkFormat.parquet,
    master: Annotated[str, typer.Option(help="Spark master URL.")] = "local[*]",
    text_column: Annotated[
        str, typer.Option(help="Column or field holding the bounce text (tables only).")
    ] = "text",
    lang: Annotated[Lang, typer.Option(help="Language of the action and advice.")] = Lang.en,
    model: ModelOption = None,
    overwrite: Annotated[bool, typer.Option(help="Replace --output if it already exists.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No summary line.")] = False,
) -> None:
    """Classify a large file or folder with Apache Spark and write the rows with predictions."""
    with user_errors():
        try:
            from bounce_ml.spark import run, session
        except ImportError as exc:
            if (exc.name or "").split(".")[0] not in ("pyspark", "py4j", "pyarrow"):
                raise
            raise BounceMLError(
                "Spark is not installed: pip install 'bounce-ml[spark]' (needs Java 17+)"
            ) from None
        run.check_output(output, overwrite=overwrite)  # before Spark takes seconds to start
        with session.spark_job(master) as spark:
            counts = run.predict(
                spark,
                input_path,
                output,
                fmt=fmt.value,
                text_column=text_column,
                model_dir=model,
                lang=lang.value,
                overwrite=overwrite,
            )
        if not quiet:
            labels = ", ".join(f"{label} {n}" for label, n in counts.most_common())
            _warn(f"{counts.total()} classified ({labels}); wrote {output}")
