// Search page for secml-papers: the entry module. No inline scripts, no innerHTML with data:
// every piece of text from the list, the query or the API goes through textContent
// (render.js). api.js talks to the server, page.js owns the elements and the status line,
// url-state.js keeps the form and the address bar in step; placement.js is the "Where does my
// paper go?" panel and sections.js browsing by section.

import { getJson } from "./api.js";
import {
  beginRequest,
  bindPage,
  clearPage,
  failed,
  finish,
  isCurrent,
  page,
  setHeading,
  setListTitle,
} from "./page.js";
import { initPlacement } from "./placement.js";
import { plural, quoted, renderResults } from "./render.js";
import { initSections } from "./sections.js";
import { SEP_VALUE, fillForm, filterSummary, formParams, setUrl } from "./url-state.js";

var K = 10;
var sectionsReady = null; // Promise resolved once the select is filled (or failed)

// ---- actions --------------------------------------------------------------------------

function runSearch(params) {
  var q = (params.get("q") || "").trim();
  setHeading("");
  if (!q) {
    clearPage();
    page.statusEl.textContent = "Type a few words to search, e.g. \u201cbackdoor defenses\u201d.";
    return Promise.resolve();
  }
  var req = beginRequest();
  document.title = q + " \u2014 secml-papers";
  var api = new URLSearchParams();
  api.set("q", q);
  api.set("k", String(K));
  ["section", "year_min", "year_max"].forEach(function (name) {
    var value = (params.get(name) || "").trim();
    if (value) api.set(name, value);
  });
  return getJson("/search?" + api.toString(), req.signal)
    .then(function (body) {
      if (!isCurrent(req)) return;
      var results = Array.isArray(body.results) ? body.results : [];
      renderResults(results);
      var filters = filterSummary(params);
      var message = results.length
        ? plural(results.length, "result", "results") + " for " + quoted(q)
        : "No results for " + quoted(q);
      if (filters) message += " (" + filters + ")";
      if (!results.length) message += filters ? "; try fewer filters." : ".";
      finish(req, message, false);
    })
    .catch(function (err) {
      failed(req, err);
    });
}

function runRelated(id) {
  var req = beginRequest();
  setHeading("");
  document.title = "Related papers \u2014 secml-papers";
  return getJson("/papers/" + encodeURIComponent(id) + "/related?k=" + K, req.signal)
    .then(function (body) {
      if (!isCurrent(req)) return;
      var paper = body.paper && typeof body.paper === "object" ? body.paper : {};
      var title = paper.title || id;
      var results = Array.isArray(body.results) ? body.results : [];
      setHeading("Papers related to " + quoted(title));
      document.title = "Related to " + title + " \u2014 secml-papers";
      renderResults(results);
      finish(
        req,
        results.length
          ? plural(results.length, "related paper", "related papers") + ", most similar first"
          : "No related papers found",
        false
      );
    })
    .catch(function (err) {
      if (isCurrent(req)) setHeading("");
      failed(req, err);
    });
}

// Show what the URL asks for: ?related=<id> first, else ?q=... with its filters.
function runFromUrl() {
  var params = new URLSearchParams(location.search);
  var related = params.get("related");
  if (related) return runRelated(related);
  return sectionsReady.then(function () {
    fillForm(params);
    if (params.get("q")) return runSearch(params);
    clearPage();
    return undefined;
  });
}

// ---- start-up -------------------------------------------------------------------------

function loadSections() {
  return getJson("/sections")
    .then(function (body) {
      var sections = Array.isArray(body.sections) ? body.sections : [];
      var frag = document.createDocumentFragment();
      sections.forEach(function (s) {
        var path = s && Array.isArray(s.section) ? s.section : null;
        if (!path || !path.length) return;
        var value = path.join(SEP_VALUE);
        frag.appendChild(new Option(value, value));
      });
      page.sectionSelect.appendChild(frag);
    })
    .catch(function () {
      // Searching still works without the filter; say nothing unless asked.
      page.sectionSelect.title = "The list of sections could not be loaded.";
    });
}

function loadHealth() {
  getJson("/health")
    .then(function (body) {
      if (typeof body.list_title === "string" && body.list_title) {
        setListTitle(body.list_title);
        document.getElementById("list-title").textContent = body.list_title;
        if (!location.search) document.title = "secml-papers \u2014 search " + body.list_title;
      }
      if (typeof body.papers === "number") {
        document.getElementById("list-info").textContent =
          " \u00b7 " + plural(body.papers, "paper", "papers");
      }
    })
    .catch(function () {
      /* the header keeps its default text */
    });
}

function onSubmit(event) {
  event.preventDefault();
  var params = formParams();
  setUrl(params);
  runSearch(params);
}

function onResultsClick(event) {
  var link = event.target.closest ? event.target.closest("a.related") : null;
  if (!link) return;
  if (event.defaultPrevented || event.button !== 0 ||
      event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) {
    return; // let the browser open it in a new tab or window
  }
  event.preventDefault();
  var id = link.getAttribute("data-id");
  history.pushState(null, "", "/?related=" + encodeURIComponent(id));
  window.scrollTo(0, 0);
  runRelated(id);
}

function init() {
  bindPage();

  page.form.addEventListener("submit", onSubmit);
  page.resultsEl.addEventListener("click", onResultsClick);
  window.addEventListener("popstate", runFromUrl);

  loadHealth();
  sectionsReady = loadSections();
  runFromUrl();
  initPlacement(); // "Where does my paper go?"
  initSections(); // browse by section
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", init);
} else {
  init();
}
