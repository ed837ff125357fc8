"""Request and response bodies of the HTTP API (Pydantic models; they make the OpenAPI spec)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Lang = Literal["en", "zh"]


class Record(BaseModel):
    """One bounce with what the sending side knows besides its text."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(description="The SMTP reply or diagnostic text.")
    status: str | None = Field(None, description="Enhanced status code, e.g. 5.1.1.")
    reply_code: int | None = Field(None, ge=200, le=599, description="SMTP reply code, e.g. 550.")
    smtp_command: str | None = Field(None, description="The SMTP command answered, e.g. RCPT.")


class ClassifyRequest(BaseModel):
    """Either ``texts`` or ``records``."""

    model_config = ConfigDict(extra="forbid")

    texts: list[str] | None = Field(None, description="Bounce texts, classified in order.")
    records: list[Record] | None = Field(None, description="Bounces with their status fields.")
    lang: Lang = Field("en", description="Language of the action and advice.")

    @model_validator(mode="after")
    def _one_kind(self) -> ClassifyRequest:
        if (self.texts is None) == (self.records is None):
            raise ValueError("give either 'texts' or 'records'")
        return self


class EmailsRequest(BaseModel):
    """Bounce messages, each a base64-encoded RFC 5322 message."""

    model_config = ConfigDict(extra="forbid")

    messages: list[str] = Field(description="Base64 of each raw message.")
    lang: Lang = "en"


class Result(BaseModel):
    """The same fields as ``bounce-ml predict -f json``: the record's, then the prediction's.

    ``source`` and ``index`` say which input it answers: ``texts`` or ``records`` and the
    position in that list, or for emails ``body`` (one raw message) or ``messages[i]``.
    """

    source: str
    index: int | None
    kind: str
    recipient: str | None
    status: str | None
    reply_code: str | None
    smtp_command: str | None
    dsn_action: str | None
    feedback_type: str | None
    remote_mta: str | None
    text: str
    label: str
    name_en: str
    name_zh: str
    confidence: float
    severity: str
    retry: bool
    action: str
    advice: str
    decided_by: str
    rule_id: str | None
    evidence: str
    note: str | None
    truncated: bool


class Results(BaseModel):
    results: list[Result]


class LabelInfo(BaseModel):
    label: str
    code: str
    name_en: str
    name_zh: str
    severity: str
    retry: bool
    action_en: str
    action_zh: str


class Labels(BaseModel):
    labels: list[LabelInfo]


class ModelInfo(BaseModel):
    model_dir: str
    loaded_at: str
    created: str | None
    data_hash: str | None
    labels: list[str] | None
    rows: int | None
    rows_per_label: dict[str, int] | None
    features: int | None
    threshold: float | None
    threshold_from: str | None
    feedback: dict[str, object] | None = Field(description="Rows learned from feedback.")
    metrics_cv: dict[str, object] | None = Field(
        description="Cross-validation metrics, when the model was trained with them."
    )


class LabelRequest(BaseModel):
    """A person's label for one bounce text (a confirmation or a correction)."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=100_000)
    label: str = Field(description="The right label (one of GET /v1/labels, not unknown).")
    predicted_label: str | None = Field(None, description="What bounce-ml had said.")
    predicted_confidence: float | None = Field(None, ge=0, le=1)
    status: str | None = Field(None, description="Enhanced status code, e.g. 5.1.1.")
    reply_code: str | None = Field(None, description="SMTP reply code, e.g. 550.")
    author: str | None = None


class Stored(BaseModel):
    id: int = Field(description="The row id in the feedback store.")


class ReviewGroup(BaseModel):
    """Queued bounces of one normalised wording."""

    key: str = Field(description="The normalised wording; send it back to resolve the group.")
    count: int
    example: str
    top_labels: list[tuple[str, float]] = Field(description="The model's top guesses.")


class ReviewQueue(BaseModel):
    groups: list[ReviewGroup]


class ResolveRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(min_length=1, description="A review group's key (or any text of it).")
    label: str
    author: str | None = None


class Resolved(BaseModel):
    labeled: int = Field(description="How many queued rows got the label.")


class Status(BaseModel):
    status: str


class Error(BaseModel):
    """Every 4xx and 5xx answer: one line saying what was wrong and where."""

    error: str
