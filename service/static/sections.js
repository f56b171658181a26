// Browse by section: the list's heading tree with its entry counts (GET /sections, the empty
// sections too); a section's button lists its entries (GET /papers?section=) with the search
// results' own rendering. Text from the list goes through textContent only.

import { ApiError, getJson } from "./api.js";
import { SEP_SHOWN, el, plural, renderPaper } from "./render.js";
import { SEP_VALUE } from "./url-state.js";

var ui = {};
var seq = 0;
var controller = null;

function key(path) {
  return path.join("\u0000");
}

// Each section's entries, its subsections' included: what a click on it lists.
function totals(sections) {
  var out = {};
  sections.forEach(function (s) {
    for (var depth = 1; depth <= s.section.length; depth++) {
      var k = key(s.section.slice(0, depth));
      out[k] = (out[k] || 0) + s.count;
    }
  });
  return out;
}

function sectionButton(path, total) {
  var button = el("button", "section-button");
  button.type = "button";
  button.setAttribute("data-section", path.join(SEP_VALUE));
  button.setAttribute("aria-controls", "browse-results");
  button.appendChild(el("span", "section-name", path[path.length - 1]));
  var count = el("span", "section-count" + (total ? "" : " empty"), String(total));
  count.setAttribute("data-count", String(total));
  button.appendChild(count);
  button.appendChild(el("span", "visually-hidden", total === 1 ? " entry" : " entries"));
  return button;
}

function renderTree(sections) {
  var counted = totals(sections);
  var lists = {}; // a section's key -> the <ul> holding its subsections
  ui.tree.textContent = "";
  sections.forEach(function (s) {
    var path = s.section;
    var parentKey = key(path.slice(0, -1));
    var parent = path.length > 1 && lists[parentKey] ? lists[parentKey] : ui.tree;
    var li = el("li", "section-node");
    li.appendChild(sectionButton(path, counted[key(path)] || 0));
    var children = el("ul", "section-children");
    li.appendChild(children);
    lists[key(path)] = children;
    parent.appendChild(li);
  });
  // Leaves keep no empty <ul> behind.
  Array.prototype.forEach.call(ui.tree.querySelectorAll("ul.section-children"), function (ul) {
    if (!ul.children.length) ul.parentNode.removeChild(ul);
  });
}

function setStatus(text, kind) {
  ui.status.classList.remove("loading", "error");
  if (kind) ui.status.classList.add(kind);
  ui.status.textContent = text;
}

function showSection(button) {
  var value = button.getAttribute("data-section");
  var shown = value.split(SEP_VALUE).join(SEP_SHOWN);
  Array.prototype.forEach.call(ui.tree.querySelectorAll("[aria-current]"), function (b) {
    b.removeAttribute("aria-current");
  });
  button.setAttribute("aria-current", "true");

  if (controller) controller.abort();
  controller = typeof AbortController === "function" ? new AbortController() : null;
  var mine = ++seq;
  ui.results.textContent = "";
  ui.results.setAttribute("aria-busy", "true");
  setStatus("Listing " + shown + "\u2026", "loading");
  getJson("/papers?section=" + encodeURIComponent(value), controller ? controller.signal : undefined)
    .then(function (body) {
      if (mine !== seq) return;
      var papers = (Array.isArray(body.papers) ? body.papers : []).filter(function (p) {
        return p && typeof p === "object";
      });
      var frag = document.createDocumentFragment();
      papers.forEach(function (p) {
        frag.appendChild(renderPaper(p));
      });
      ui.results.appendChild(frag);
      ui.results.removeAttribute("aria-busy");
      ui.heading.textContent = shown + ": " + plural(papers.length, "entry", "entries");
      ui.heading.hidden = false;
      setStatus(
        papers.length
          ? plural(papers.length, "entry", "entries") + " in " + shown + ", in the list's order."
          : "No entries in " + shown + " yet.",
        null
      );
      ui.heading.focus();
    })
    .catch(function (err) {
      if ((err && err.name === "AbortError") || mine !== seq) return;
      ui.results.removeAttribute("aria-busy");
      setStatus(err instanceof ApiError ? err.message : "Something went wrong: " + err, "error");
    });
}

function onTreeClick(event) {
  var button = event.target.closest ? event.target.closest("button.section-button") : null;
  if (button) showSection(button);
}

export function initSections() {
  ui.tree = document.getElementById("section-tree");
  if (!ui.tree) return;
  ui.status = document.getElementById("browse-status");
  ui.heading = document.getElementById("browse-heading");
  ui.results = document.getElementById("browse-results");
  ui.tree.addEventListener("click", onTreeClick);
  getJson("/sections")
    .then(function (body) {
      var sections = (Array.isArray(body.sections) ? body.sections : []).filter(function (s) {
        return s && Array.isArray(s.section) && s.section.length && typeof s.count === "number";
      });
      renderTree(sections);
      if (!sections.length) setStatus("The list has no sections.", null);
    })
    .catch(function (err) {
      setStatus(err instanceof ApiError ? err.message : "The sections could not be loaded.", "error");
    });
}
