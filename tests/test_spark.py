"""bounce_ml.spark on a real local Spark session: the same answers as classify() and the
email reader, the model shipped to and verified on the executors."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from bounce_ml import BounceMLError, Classifier, classify, config
from bounce_ml.corpus.files import load_corpus
from bounce_ml.mail.readers import iter_records
from bounce_ml.mail.records import MAX_TEXT_CHARS, BounceRecord
from bounce_ml.predict.artifacts import METADATA_FILE, MODEL_FILES, SCORER_FILE
from bounce_ml.predict.batch import BatchRun
from bounce_ml.predict.output import result_row
from bounce_ml.spark import classify_dataframe, parse_emails_dataframe
from bounce_ml.spark.schema import PREDICTION_COLUMNS
from bounce_ml.spark.session import SPARK_ERRORS, job_error

pytestmark = pytest.mark.slow
EMAILS = Path(__file__).parent / "fixtures" / "emails"


def _texts_frame(spark: SparkSession, texts: list[str | None]):
    return spark.createDataFrame(list(enumerate(texts)), "id long, text string")


def _predictions(rows: list) -> list[dict]:
    return [{name: row[name] for name in PREDICTION_COLUMNS} for row in rows]


def _expected(texts: list[str], **options) -> list[dict]:
    return [
        {name: value for name, value in p.to_dict().items() if name != "text"}
        for p in classify(texts, **options)
    ]


def test_labels_from_spark_equal_classify_on_the_same_texts(spark: SparkSession) -> None:
    corpus = load_corpus().rows
    texts = [row.text for row in corpus[:: max(1, len(corpus) // 400)]]  # English and Chinese
    assert any(row.lang != "en" for row in corpus[:: max(1, len(corpus) // 400)])
    rows = classify_dataframe(_texts_frame(spark, texts)).orderBy("id").collect()
    assert [row.text for row in rows] == texts  # the input columns are kept as they were
    assert _predictions(rows) == _expected(texts)


def test_advice_in_chinese(spark: SparkSession) -> None:
    texts = ["552 5.2.2 Mailbox full", "收件人不存在"]
    rows = classify_dataframe(_texts_frame(spark, texts), lang="zh").orderBy("id").collect()
    assert _predictions(rows) == _expected(texts, lang="zh")


def test_null_empty_and_huge_texts_get_what_the_command_line_gives(spark: SparkSession) -> None:
    huge = "550 5.1.1 user unknown " + "x" * (5 * MAX_TEXT_CHARS)
    command = [str(Path(sys.executable).parent / "bounce-ml"), "predict", "-f", "jsonl"]
    result = subprocess.run([*command, "", huge], capture_output=True, text=True, check=True)
    cli = [json.loads(line) for line in result.stdout.splitlines()]
    rows = classify_dataframe(_texts_frame(spark, [None, "", huge])).orderBy("id").collect()
    wanted = [{name: row[name] for name in PREDICTION_COLUMNS} for row in (cli[0], *cli)]
    assert _predictions(rows) == wanted
    assert rows[0].note == "empty text" and rows[2].truncated and not rows[1].truncated
    assert rows[2].text == huge  # the input column itself is never cut


def test_emails_give_the_records_and_labels_of_predict_input(spark: SparkSession) -> None:
    binary = spark.read.format("binaryFile").option("pathGlobFilter", "*.eml").load(str(EMAILS))
    rows = classify_dataframe(parse_emails_dataframe(binary)).collect()
    by_file: dict[str, list[dict]] = {}
    for row in rows:
        by_file.setdefault(Path(row.source).name, []).append(row.asDict())

    problems: list[str] = []
    run = BatchRun(Classifier(), report=problems.append)
    expected: dict[str, list[dict]] = {}
    for record, prediction in run.predict(
        run.read(str(EMAILS), text_column="text", text_field="text")
    ):
        row = result_row(record, prediction)
        expected.setdefault(Path(record.source).name, []).append(row)
    assert len(expected) >= 30 and problems  # binary_junk.eml is not a message

    assert sorted(by_file) == sorted(path.name for path in EMAILS.glob("*.eml"))
    for name, want in expected.items():
        columns = [key for key in want[0] if key not in ("source", "index")]
        got = [{key: row[key] for key in columns} for row in by_file[name]]
        assert got == [{key: row[key] for key in columns} for row in want], name
    # What the command line reports and skips is kept as a row saying why, not lost.
    (junk,) = by_file["binary_junk.eml"]
    assert (junk["kind"], junk["label"], junk["recipient"]) == ("not_bounce", "unknown", None)
    assert junk["note"].startswith("unreadable: no header fields: not an email message")
    assert any(
        "binary_junk.eml" in problem and "no header fields" in problem for problem in problems
    )


def test_email_records_have_the_fields_of_predict_input(spark: SparkSession) -> None:
    path = EMAILS / "qmail_prose_two_recipients.eml"
    binary = spark.read.format("binaryFile").load(str(path))
    rows = [row.asDict() for row in parse_emails_dataframe(binary).collect()]
    records = [item for item in iter_records(path) if isinstance(item, BounceRecord)]
    assert len(rows) == len(records) == 2
    for row, record in zip(rows, records, strict=True):
        assert row["source"].endswith(str(path))
        assert {**row, "source": str(path)} == record.to_dict()


def test_a_status_column_is_used_where_the_text_has_no_code(spark: SparkSession) -> None:
    texts = ["Delivery failed", "Message rejected"]
    frame = spark.createDataFrame(
        [(0, texts[0], "5.2.2"), (1, texts[1], None)], "id long, text string, dsn string"
    )
    rows = classify_dataframe(frame, status_col="dsn").orderBy("id").collect()
    records = [BounceRecord(text=texts[0], status="5.2.2"), BounceRecord(text=texts[1])]
    wanted = [
        {k: v for k, v in p.to_dict().items() if k != "text"}
        for p in Classifier().predict_records(records)
    ]
    assert _predictions(rows) == wanted
    assert rows[0].label != classify(texts[0]).label  # the status changed the answer


def test_the_model_travels_with_the_job(spark: SparkSession, tmp_path: Path) -> None:
    model = tmp_path / "model"
    model.mkdir()
    for name in MODEL_FILES:
        shutil.copy(config.MODELS_DIR / name, model / name)
    texts = ["452 4.2.2 Mailbox over quota", "邮箱空间已满"]
    classified = classify_dataframe(_texts_frame(spark, texts), model_dir=model)
    shutil.rmtree(model)  # what the executors read was shipped when the job was defined
    rows = classified.orderBy("id").collect()
    assert _predictions(rows) == _expected(texts)


def test_a_tampered_model_fails_the_job_with_our_error(spark: SparkSession, tmp_path: Path) -> None:
    model = tmp_path / "tampered"
    model.mkdir()
    for name in MODEL_FILES:
        shutil.copy(config.MODELS_DIR / name, model / name)
    scorer = bytearray((config.MODELS_DIR / SCORER_FILE).read_bytes())
    scorer[len(scorer) // 2] ^= 0xFF
    (model / SCORER_FILE).write_bytes(bytes(scorer))
    classified = classify_dataframe(_texts_frame(spark, ["550 user unknown"]), model_dir=model)
    with pytest.raises(SPARK_ERRORS) as failure:
        classified.collect()
    message = job_error(failure.value)
    assert message is not None
    assert message.endswith(
        f"{SCORER_FILE}: SHA-256 does not match {METADATA_FILE}; refusing "
        "to load a model file that was changed after training"
    )


def test_mistakes_are_refused_before_the_job_runs(spark: SparkSession, tmp_path: Path) -> None:
    frame = _texts_frame(spark, ["550 user unknown"])
    with pytest.raises(BounceMLError, match="no column 'body'; columns found: id, text"):
        classify_dataframe(frame, "body")
    with pytest.raises(BounceMLError, match="column 'id' is bigint"):
        classify_dataframe(frame, "id")
    with pytest.raises(BounceMLError, match="no column 'dsn'"):
        classify_dataframe(frame, status_col="dsn")
    with pytest.raises(BounceMLError, match="column 'label' would be overwritten"):
        classify_dataframe(frame.withColumnRenamed("id", "label"))
    with pytest.raises(BounceMLError, match="unknown language 'fr'"):
        classify_dataframe(frame, lang="fr")
    with pytest.raises(BounceMLError, match="no trained model here"):
        classify_dataframe(frame, model_dir=tmp_path)
    with pytest.raises(BounceMLError, match="binaryFile"):
        parse_emails_dataframe(frame)
