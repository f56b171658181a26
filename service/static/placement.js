// "Where does my paper go?": a title (and abstract, year) in, POST /categorize out: every
// section ranked with its confidence and the entries that are its evidence, the abstention
// said plainly, and the line of the list where the paper would be written (the year order
// check-pr checks additions against). Text from the list or the API goes through textContent.

import { ApiError, postJson } from "./api.js";
import { SEP_SHOWN, el, isWebUrl, plural, quoted } from "./render.js";

var SHOWN_FIRST = 5;  // sections shown at once; the others sit behind a disclosure
var UNSURE = "Unsure: no section is confident";

var ui = {};
var seq = 0;
var controller = null;

function percent(confidence) {
  var n = Math.round(confidence * 100);
  if (n === 0 && confidence > 0) return "under 1%";
  if (n === 100 && confidence < 1) return "over 99%";
  return n + "%";
}

function pathText(section) {
  return Array.isArray(section) && section.length ? section.join(SEP_SHOWN) : "(the list itself)";
}

// "before line 48 of the list", the line a link when the list is a file on the web.
function positionNodes(position, isEmpty) {
  var frag = document.createDocumentFragment();
  var lineText = "line " + position.line + " of the list";
  frag.appendChild(document.createTextNode((position.where === "before" ? "before " : "after ")));
  if (isWebUrl(position.url)) {
    var link = el("a", "line-link", lineText);
    link.href = position.url;
    link.rel = "noopener noreferrer";
    frag.appendChild(link);
  } else {
    frag.appendChild(el("span", "line-text", lineText));
  }
  var why;
  if (position.order) why = " (" + position.order + ", placed as " + position.year + ")";
  else if (isEmpty) why = ", below its heading (no entries yet)";
  else why = " (the section keeps no year order: at its end)";
  frag.appendChild(document.createTextNode(why));
  return frag;
}

function evidenceList(entries) {
  var ul = el("ul", "evidence");
  entries.forEach(function (entry) {
    if (!entry || typeof entry !== "object") return;
    var li = el("li", "evidence-entry");
    var title = entry.title || "(untitled)";
    var node = isWebUrl(entry.url) ? el("a", "evidence-title", title) : el("span", "evidence-title", title);
    if (node.tagName === "A") {
      node.href = entry.url;
      node.rel = "noopener noreferrer";
    }
    li.appendChild(node);
    var bits = [];
    if (typeof entry.year === "number") bits.push(String(entry.year));
    if (typeof entry.line === "number") bits.push("line " + entry.line);
    if (bits.length) li.appendChild(el("span", "evidence-meta", " (" + bits.join(", ") + ")"));
    ul.appendChild(li);
  });
  return ul;
}

function renderSuggestion(s, best) {
  var li = el("li", "placement-section" + (best ? " best" : ""));
  li.appendChild(el("h4", "placement-path", pathText(s.section)));

  var conf = el("p", "confidence");
  var meter = document.createElement("meter");
  meter.min = 0;
  meter.max = 1;
  meter.value = s.confidence;
  meter.setAttribute("aria-hidden", "true");
  conf.appendChild(meter);
  conf.appendChild(el("span", "confidence-text", percent(s.confidence) + " confident"));
  li.appendChild(conf);

  var entries = Array.isArray(s.evidence_entries) ? s.evidence_entries : [];
  if (s.position && typeof s.position.line === "number") {
    var where = el("p", "placement-line", "Would go ");
    where.appendChild(positionNodes(s.position, !entries.length));
    li.appendChild(where);
  }
  if (entries.length) {
    li.appendChild(el("p", "evidence-label", "Closest entries in this section:"));
    li.appendChild(evidenceList(entries));
  } else {
    li.appendChild(el("p", "evidence-label", "No entries here yet: judged by the section's name."));
  }
  return li;
}

function renderAnswer(body, title) {
  var suggestions = (Array.isArray(body.suggestions) ? body.suggestions : []).filter(function (s) {
    return s && typeof s === "object" && typeof s.confidence === "number";
  });
  var top = suggestions[0];
  var unsure = Boolean(body.abstain) || !top;
  ui.verdict.textContent = unsure ? UNSURE : "Best fit: " + pathText(top.section);
  ui.verdict.classList.toggle("unsure", unsure);

  ui.where.textContent = "";
  if (top) {
    var lead = unsure
      ? "The closest is " + pathText(top.section) + " (" + percent(top.confidence) + "); a maintainer should choose. It would go "
      : quoted(title) + " would go in " + pathText(top.section) + " (" + percent(top.confidence) + " confident), ";
    ui.where.appendChild(document.createTextNode(lead));
    if (top.position && typeof top.position.line === "number") {
      var entries = Array.isArray(top.evidence_entries) ? top.evidence_entries : [];
      ui.where.appendChild(positionNodes(top.position, !entries.length));
      ui.where.appendChild(document.createTextNode("."));
    } else {
      ui.where.appendChild(document.createTextNode("where its section's entries are."));
    }
  }

  ui.list.textContent = "";
  var first = document.createDocumentFragment();
  suggestions.slice(0, SHOWN_FIRST).forEach(function (s, i) {
    first.appendChild(renderSuggestion(s, i === 0 && !unsure));
  });
  ui.list.appendChild(first);
  var rest = suggestions.slice(SHOWN_FIRST);
  if (rest.length) {
    var more = el("li", "placement-more");
    var details = document.createElement("details");
    details.appendChild(el("summary", null, plural(rest.length, "other section", "other sections") + ", less likely"));
    var ol = el("ol", "placement-rest");
    ol.start = SHOWN_FIRST + 1;
    rest.forEach(function (s) {
      ol.appendChild(renderSuggestion(s, false));
    });
    details.appendChild(ol);
    more.appendChild(details);
    ui.list.appendChild(more);
  }
  ui.answer.hidden = false;
  return { count: suggestions.length, unsure: unsure };
}

function setStatus(text, kind) {
  ui.status.classList.remove("loading", "error");
  if (kind) ui.status.classList.add(kind);
  ui.status.textContent = text;
}

function onSubmit(event) {
  event.preventDefault();
  var title = ui.title.value.trim();
  if (!title) {
    setStatus("Give the title of your paper first.", "error");
    ui.title.focus();
    return;
  }
  var data = { title: title };
  var abstract = ui.abstract.value.trim();
  if (abstract) data.abstract = abstract;
  var year = parseInt(ui.year.value, 10);
  if (isFinite(year)) data.year = year;

  if (controller) controller.abort();
  controller = typeof AbortController === "function" ? new AbortController() : null;
  var mine = ++seq;
  ui.answer.hidden = true;
  setStatus("Placing \u201c" + title + "\u201d\u2026", "loading");
  postJson("/categorize", data, controller ? controller.signal : undefined)
    .then(function (body) {
      if (mine !== seq) return;
      var shown = renderAnswer(body, title);
      setStatus(
        (shown.unsure ? UNSURE + ". " : "") +
          plural(shown.count, "section", "sections") + " ranked for " + quoted(title) + ".",
        null
      );
      ui.verdict.focus();
    })
    .catch(function (err) {
      if ((err && err.name === "AbortError") || mine !== seq) return;
      setStatus(err instanceof ApiError ? err.message : "Something went wrong: " + err, "error");
    });
}

export function initPlacement() {
  ui.form = document.getElementById("placement-form");
  if (!ui.form) return;
  ui.title = document.getElementById("placement-paper");
  ui.abstract = document.getElementById("placement-abstract");
  ui.year = document.getElementById("placement-year");
  ui.status = document.getElementById("placement-status");
  ui.answer = document.getElementById("placement-answer");
  ui.verdict = document.getElementById("placement-verdict");
  ui.where = document.getElementById("placement-where");
  ui.list = document.getElementById("placement-sections");
  ui.form.addEventListener("submit", onSubmit);
}
