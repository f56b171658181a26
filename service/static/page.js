// The page's elements and its status line: only the newest request may touch the page.

import { ApiError } from "./api.js";

// Filled by bindPage() once the document is parsed.
export var page = {
  form: null,
  qInput: null,
  sectionSelect: null,
  yearMin: null,
  yearMax: null,
  statusEl: null,
  headingEl: null,
  resultsEl: null,
};

var requestSeq = 0;       // only the newest request may touch the page
var controller = null;    // aborts the previous request when a new one starts
var listTitle = "Awesome SecML Papers";

export function bindPage() {
  page.form = document.getElementById("search-form");
  page.qInput = document.getElementById("q");
  page.sectionSelect = document.getElementById("section");
  page.yearMin = document.getElementById("year-min");
  page.yearMax = document.getElementById("year-max");
  page.statusEl = document.getElementById("status");
  page.headingEl = document.getElementById("results-heading");
  page.resultsEl = document.getElementById("results");
}

export function setListTitle(title) {
  listTitle = title;
}

export function beginRequest() {
  if (controller) controller.abort();
  controller = typeof AbortController === "function" ? new AbortController() : null;
  requestSeq += 1;
  page.resultsEl.textContent = "";
  page.resultsEl.setAttribute("aria-busy", "true");
  page.statusEl.classList.remove("error");
  page.statusEl.classList.add("loading");
  page.statusEl.textContent = "Searching\u2026";
  return { seq: requestSeq, signal: controller ? controller.signal : undefined };
}

export function isCurrent(req) {
  return req.seq === requestSeq;
}

export function finish(req, message, isError) {
  if (!isCurrent(req)) return;
  page.resultsEl.removeAttribute("aria-busy");
  page.statusEl.classList.remove("loading");
  page.statusEl.classList.toggle("error", Boolean(isError));
  page.statusEl.textContent = message;
}

export function failed(req, err) {
  if (err && err.name === "AbortError") return;
  if (!isCurrent(req)) return;
  var message = err instanceof ApiError ? err.message : "Something went wrong: " + err;
  finish(req, message, true);
}

export function setHeading(text) {
  if (text) {
    page.headingEl.textContent = text;
    page.headingEl.hidden = false;
  } else {
    page.headingEl.textContent = "";
    page.headingEl.hidden = true;
  }
}

export function clearPage() {
  if (controller) controller.abort();
  requestSeq += 1;
  page.resultsEl.textContent = "";
  page.resultsEl.removeAttribute("aria-busy");
  setHeading("");
  page.statusEl.classList.remove("error", "loading");
  page.statusEl.textContent = "";
  document.title = "secml-papers \u2014 search " + listTitle;
}
