// The review page: classify pasted texts or dropped .eml files, show why, and take
// corrections; list the review queue. Plain JavaScript, no build step, nothing external.
"use strict";

const state = { lang: "en", strings: {}, labels: [], key: sessionStorage.getItem("bounce-ml-key") || "" };

function pickLang() {
  const asked = new URLSearchParams(location.search).get("lang");
  if (asked === "en" || asked === "zh") return asked;
  const browser = (navigator.languages && navigator.languages[0]) || navigator.language || "en";
  return browser.toLowerCase().startsWith("zh") ? "zh" : "en";
}

function t(key, values = {}) {
  const text = state.strings[key] || key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
}

function $(selector, root = document) {
  return root.querySelector(selector);
}

function setStatus(message, isError = false) {
  const status = $("#status");
  status.textContent = message;
  status.classList.toggle("error", isError);
}

// Every call to the API goes through here: the key, JSON errors, the key form on 401.
async function api(path, options = {}) {
  const headers = Object.assign({}, options.headers || {});
  if (state.key) headers.Authorization = "Bearer " + state.key;
  const response = await fetch(path, Object.assign({}, options, { headers }));
  const body = await response.json().catch(() => ({ error: response.statusText }));
  if (response.status === 401) {
    $("#key-form").hidden = false;
    throw new Error(t("keyNeeded"));
  }
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}

function postJson(path, payload) {
  return api(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(payload),
  });
}

// Words worth highlighting from an evidence string such as "5.1.1; user unknown; 'full'".
function evidenceTerms(evidence) {
  const terms = new Set();
  for (const item of (evidence || "").split(";")) {
    const phrase = item.replace(/<[a-z]+>/g, " ").replace(/'/g, "").trim();
    if (!phrase) continue;
    // Chinese features are segmented words joined by spaces: "已 满" is "已满" in the text.
    const joined = phrase.replace(/([\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])/g, "$1");
    for (const term of [joined, ...joined.split(/\s+/)]) {
      if (term.length >= 2 || /[\u4e00-\u9fff]/.test(term)) terms.add(term);
    }
  }
  return [...terms].sort((a, b) => b.length - a.length);
}

// The text with the evidence terms wrapped in <mark>, built as DOM nodes (never as HTML).
function highlighted(text, evidence) {
  const fragment = document.createDocumentFragment();
  const terms = evidenceTerms(evidence);
  if (!terms.length) {
    fragment.append(text);
    return fragment;
  }
  const escaped = terms.map((term) => term.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  const pattern = new RegExp(escaped.join("|"), "gi");
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    if (!match[0]) continue;
    fragment.append(text.slice(last, match.index));
    const mark = document.createElement("mark");
    mark.textContent = match[0];
    fragment.append(mark);
    last = match.index + match[0].length;
  }
  fragment.append(text.slice(last));
  return fragment;
}

function labelOptions(select, placeholder, exclude) {
  select.replaceChildren(new Option(placeholder, ""));
  for (const label of state.labels) {
    if (label.label === exclude || label.label === "unknown") continue;
    select.add(new Option(`${label.label} · ${label.name_en} / ${label.name_zh}`, label.label));
  }
}

function renderResult(row) {
  const card = $("#result-template").content.firstElementChild.cloneNode(true);
  card.dataset.label = row.label;
  $(".label-id", card).textContent = row.label;
  $(".names", card).textContent = `${row.name_en} · ${row.name_zh}`;
  const severity = $(".severity", card);
  severity.textContent = `${t(row.severity)} · ${row.retry ? t("retry") : t("noRetry")}`;
  severity.classList.add(row.severity);
  const where = [row.recipient && `${t("recipient")}: ${row.recipient}`, row.status, row.note];
  $(".where", card).textContent = where.filter(Boolean).join(" · ");
  $(".bar span", card).style.width = `${Math.round(row.confidence * 100)}%`;
  const rule = row.rule_id ? ` ${row.rule_id}` : "";
  $(".confidence .value", card).textContent =
    `${row.confidence.toFixed(2)} · ${t("decided_" + row.decided_by)}${rule}`;
  $(".text", card).append(highlighted(row.text, row.evidence));
  $(".action", card).textContent = row.action;
  $(".advice", card).textContent = row.advice;
  $(".evidence", card).textContent = row.evidence || "–";

  const confirm = $(".confirm", card);
  const correct = $(".correct", card);
  const saved = $(".saved", card);
  confirm.textContent = t("confirm", { label: row.label });
  confirm.hidden = row.label === "unknown";
  labelOptions(correct, t("correctTo"), row.label);
  const save = async (label) => {
    try {
      await postJson("/v1/feedback", {
        text: row.text,
        label,
        predicted_label: row.label,
        predicted_confidence: row.confidence,
        status: row.status || null,
      });
      saved.textContent = t("saved", { label });
      saved.classList.remove("error");
      card.dataset.saved = label;
    } catch (error) {
      saved.textContent = t("error", { message: error.message });
      saved.classList.add("error");
    }
  };
  confirm.addEventListener("click", () => save(row.label));
  correct.addEventListener("change", () => correct.value && save(correct.value));
  return card;
}

function showResults(rows) {
  $("#results").replaceChildren(...rows.map(renderResult));
  setStatus(t("done", { n: rows.length }));
  loadQueue();
}

async function classifyTexts() {
  const texts = $("#texts").value.split("\n").filter((line) => line.trim());
  if (!texts.length) {
    setStatus(t("nothing"), true);
    return;
  }
  setStatus(t("working"));
  try {
    const body = await postJson("/v1/classify", { texts, lang: state.lang });
    showResults(body.results);
  } catch (error) {
    setStatus(t("error", { message: error.message }), true);
  }
}

async function classifyFiles(files) {
  setStatus(t("working"));
  try {
    const rows = [];
    for (const file of files) {
      const body = await api(`/v1/emails?lang=${state.lang}`, {
        method: "POST",
        headers: { "Content-Type": "message/rfc822" },
        body: await file.arrayBuffer(),
      });
      rows.push(...body.results.map((row) => Object.assign(row, { source: file.name })));
    }
    showResults(rows);
  } catch (error) {
    setStatus(t("error", { message: error.message }), true);
  }
}

function renderGroup(group) {
  const item = document.createElement("li");
  item.dataset.key = group.key;
  const count = document.createElement("span");
  count.className = "count";
  count.textContent = t("times", { n: group.count });
  const example = document.createElement("p");
  example.className = "text";
  example.textContent = group.example;
  const choices = document.createElement("div");
  choices.className = "choices";
  const said = document.createElement("span");
  said.className = "hint";
  said.textContent = t("modelSaid");
  choices.append(said);
  const resolve = async (label) => {
    try {
      const body = await postJson("/v1/review/resolve", { key: group.key, label });
      item.replaceChildren(t("resolved", { n: body.labeled, label }));
      item.classList.add("done");
    } catch (error) {
      item.append(` ${t("error", { message: error.message })}`);
    }
  };
  for (const [label, probability] of group.top_labels) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "small";
    button.dataset.label = label;
    button.textContent = `${label} ${probability.toFixed(2)}`;
    button.addEventListener("click", () => resolve(label));
    choices.append(button);
  }
  const other = document.createElement("select");
  other.setAttribute("aria-label", "other label");
  labelOptions(other, t("otherLabel"), null);
  other.addEventListener("change", () => other.value && resolve(other.value));
  choices.append(other);
  item.append(count, example, choices);
  return item;
}

async function loadQueue() {
  try {
    const body = await api("/v1/review");
    $("#queue").replaceChildren(...body.groups.map(renderGroup));
    $("#queue-empty").hidden = body.groups.length > 0;
  } catch (error) {
    $("#queue-empty").hidden = false;
    $("#queue-empty").textContent = t("error", { message: error.message });
  }
}

function wireDropzone() {
  const zone = $("#dropzone");
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    if (event.dataTransfer.files.length) classifyFiles([...event.dataTransfer.files]);
  });
  $("#eml-input").addEventListener("change", (event) => {
    if (event.target.files.length) classifyFiles([...event.target.files]);
  });
}

async function loadData() {
  try {
    state.labels = (await api("/v1/labels")).labels;
  } catch (error) {
    setStatus(t("error", { message: error.message }), true);
    return;
  }
  document.body.dataset.ready = "true";
  loadQueue();
}

async function start() {
  state.lang = pickLang();
  document.documentElement.lang = state.lang === "zh" ? "zh-CN" : "en";
  state.strings = (await (await fetch("/static/strings.json")).json())[state.lang];
  const template = $("#result-template").content;
  for (const element of [...document.querySelectorAll("[data-i18n]"), ...template.querySelectorAll("[data-i18n]")]) {
    element.textContent = t(element.dataset.i18n);
  }
  $(`#lang-${state.lang}`).classList.add("current");
  $("#key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    state.key = $("#api-key").value.trim();
    sessionStorage.setItem("bounce-ml-key", state.key);
    $("#key-form").hidden = true;
    setStatus("");
    loadData();
  });
  $("#classify-button").addEventListener("click", classifyTexts);
  $("#review-refresh").addEventListener("click", loadQueue);
  wireDropzone();
  loadData();
}

start();
