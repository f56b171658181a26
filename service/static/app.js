// Search page for secml-papers. No inline scripts, no innerHTML with data: every piece of
// text from the list, the query or the API goes through textContent.
(function () {
  "use strict";

  var K = 10;
  var SEP_VALUE = " > ";   // section path as sent to the API (and shown in the select)
  var SEP_SHOWN = " › ";   // section path as shown under a result

  var form, qInput, sectionSelect, yearMin, yearMax, statusEl, headingEl, resultsEl;
  var requestSeq = 0;       // only the newest request may touch the page
  var controller = null;    // aborts the previous request when a new one starts
  var sectionsReady = null; // Promise resolved once the select is filled (or failed)
  var listTitle = "Awesome SecML Papers";

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function isWebUrl(url) {
    return typeof url === "string" && /^https?:\/\//i.test(url);
  }

  function quoted(text) {
    return "\u201c" + text + "\u201d";
  }

  function plural(n, one, many) {
    return n + " " + (n === 1 ? one : many);
  }

  // ---- talking to the API -------------------------------------------------------------

  function ApiError(message) {
    this.message = message;
  }

  // Fetch JSON; resolves with the body, rejects with ApiError carrying a sentence to show.
  function getJson(url, signal) {
    return fetch(url, { headers: { Accept: "application/json" }, signal: signal })
      .catch(function (err) {
        if (err && err.name === "AbortError") throw err;
        throw new ApiError("Could not reach the server; check that it is running.");
      })
      .then(function (response) {
        return response.text().then(function (text) {
          var body = null;
          try {
            body = text ? JSON.parse(text) : null;
          } catch (e) {
            body = null;
          }
          if (!response.ok) throw new ApiError(errorMessage(response, body));
          if (body === null || typeof body !== "object") {
            throw new ApiError("The server sent an answer this page cannot read.");
          }
          return body;
        });
      });
  }

  function errorMessage(response, body) {
    var detail = body && body.detail;
    if (typeof detail === "string" && detail) return detail;
    // FastAPI's own validation errors: a list of {loc, msg}.
    if (Array.isArray(detail) && detail.length && detail[0] && detail[0].msg) {
      var first = detail[0];
      var where = Array.isArray(first.loc) ? first.loc[first.loc.length - 1] : "";
      return (where ? where + ": " : "") + first.msg;
    }
    return "The server answered HTTP " + response.status +
      (response.statusText ? " (" + response.statusText + ")" : "") + ".";
  }

  // ---- page state ---------------------------------------------------------------------

  function beginRequest() {
    if (controller) controller.abort();
    controller = typeof AbortController === "function" ? new AbortController() : null;
    requestSeq += 1;
    resultsEl.textContent = "";
    resultsEl.setAttribute("aria-busy", "true");
    statusEl.classList.remove("error");
    statusEl.classList.add("loading");
    statusEl.textContent = "Searching\u2026";
    return { seq: requestSeq, signal: controller ? controller.signal : undefined };
  }

  function isCurrent(req) {
    return req.seq === requestSeq;
  }

  function finish(req, message, isError) {
    if (!isCurrent(req)) return;
    resultsEl.removeAttribute("aria-busy");
    statusEl.classList.remove("loading");
    statusEl.classList.toggle("error", Boolean(isError));
    statusEl.textContent = message;
  }

  function failed(req, err) {
    if (err && err.name === "AbortError") return;
    if (!isCurrent(req)) return;
    var message = err instanceof ApiError ? err.message : "Something went wrong: " + err;
    finish(req, message, true);
  }

  function setHeading(text) {
    if (text) {
      headingEl.textContent = text;
      headingEl.hidden = false;
    } else {
      headingEl.textContent = "";
      headingEl.hidden = true;
    }
  }

  function clearPage() {
    if (controller) controller.abort();
    requestSeq += 1;
    resultsEl.textContent = "";
    resultsEl.removeAttribute("aria-busy");
    setHeading("");
    statusEl.classList.remove("error", "loading");
    statusEl.textContent = "";
    document.title = "secml-papers \u2014 search " + listTitle;
  }

  // ---- rendering ----------------------------------------------------------------------

  function renderPaper(paper) {
    var li = el("li", "result");

    var titleNode;
    var title = paper.title || "(untitled)";
    if (isWebUrl(paper.url)) {
      titleNode = el("a", "title", title);
      titleNode.href = paper.url;
      titleNode.rel = "noopener noreferrer";
    } else {
      titleNode = el("span", "title", title);
    }
    var h3 = el("h3", "result-title");
    h3.appendChild(titleNode);
    li.appendChild(h3);

    var meta = el("p", "meta");
    if (paper.authors) meta.appendChild(el("span", "authors", paper.authors));
    var where = [paper.venue, paper.year].filter(function (x) {
      return x !== null && x !== undefined && x !== "";
    }).join(" ");
    if (where) meta.appendChild(el("span", "venue", where));
    if (meta.childNodes.length) li.appendChild(meta);

    if (Array.isArray(paper.section) && paper.section.length) {
      li.appendChild(el("p", "section-path", paper.section.join(SEP_SHOWN)));
    }

    if (paper.note) li.appendChild(el("p", "note", paper.note));
    if (paper.abstract) li.appendChild(el("p", "abstract", paper.abstract));

    var foot = el("p", "result-foot");
    if (typeof paper.score === "number" && isFinite(paper.score)) {
      var score = el("span", "score", "score " + paper.score.toFixed(2));
      score.title = "relevance: cosine similarity and BM25, each scaled 0..1, averaged";
      foot.appendChild(score);
    }
    if (paper.id !== undefined && paper.id !== null) {
      var related = el("a", "related", "related");
      related.href = "/?related=" + encodeURIComponent(paper.id);
      related.setAttribute("data-id", String(paper.id));
      related.setAttribute("aria-label", "Papers related to " + title);
      foot.appendChild(related);
    }
    li.appendChild(foot);
    return li;
  }

  function renderResults(list) {
    var frag = document.createDocumentFragment();
    list.forEach(function (paper) {
      if (paper && typeof paper === "object") frag.appendChild(renderPaper(paper));
    });
    resultsEl.textContent = "";
    resultsEl.appendChild(frag);
  }

  // ---- form <-> URL -------------------------------------------------------------------

  function formParams() {
    var params = new URLSearchParams();
    var q = qInput.value.trim();
    if (q) params.set("q", q);
    if (sectionSelect.value) params.set("section", sectionSelect.value);
    if (yearMin.value.trim()) params.set("year_min", yearMin.value.trim());
    if (yearMax.value.trim()) params.set("year_max", yearMax.value.trim());
    return params;
  }

  function setUrl(params) {
    var search = params.toString();
    var url = location.pathname + (search ? "?" + search : "");
    if (location.search === (search ? "?" + search : "")) {
      history.replaceState(null, "", url);
    } else {
      history.pushState(null, "", url);
    }
  }

  function selectSection(value) {
    if (!value) {
      sectionSelect.value = "";
      return;
    }
    var exists = Array.prototype.some.call(sectionSelect.options, function (o) {
      return o.value === value;
    });
    if (!exists) {
      // Unknown to the list (or the list failed to load): keep it so the API can say why.
      sectionSelect.appendChild(new Option(value, value));
    }
    sectionSelect.value = value;
  }

  function fillForm(params) {
    qInput.value = params.get("q") || "";
    yearMin.value = params.get("year_min") || "";
    yearMax.value = params.get("year_max") || "";
    selectSection(params.get("section") || "");
  }

  // ---- actions ------------------------------------------------------------------------

  function runSearch(params) {
    var q = (params.get("q") || "").trim();
    setHeading("");
    if (!q) {
      clearPage();
      statusEl.textContent = "Type a few words to search, e.g. \u201cbackdoor defenses\u201d.";
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

  function filterSummary(params) {
    var parts = [];
    var section = params.get("section");
    if (section) parts.push("in " + section.split(SEP_VALUE).join(SEP_SHOWN));
    var lo = params.get("year_min");
    var hi = params.get("year_max");
    if (lo && hi) parts.push(lo === hi ? "year " + lo : "years " + lo + "\u2013" + hi);
    else if (lo) parts.push("from " + lo);
    else if (hi) parts.push("up to " + hi);
    return parts.join(", ");
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

  // ---- start-up -----------------------------------------------------------------------

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
        sectionSelect.appendChild(frag);
      })
      .catch(function () {
        // Searching still works without the filter; say nothing unless asked.
        sectionSelect.title = "The list of sections could not be loaded.";
      });
  }

  function loadHealth() {
    getJson("/health")
      .then(function (body) {
        if (typeof body.list_title === "string" && body.list_title) {
          listTitle = body.list_title;
          document.getElementById("list-title").textContent = listTitle;
          if (!location.search) document.title = "secml-papers \u2014 search " + listTitle;
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
    form = document.getElementById("search-form");
    qInput = document.getElementById("q");
    sectionSelect = document.getElementById("section");
    yearMin = document.getElementById("year-min");
    yearMax = document.getElementById("year-max");
    statusEl = document.getElementById("status");
    headingEl = document.getElementById("results-heading");
    resultsEl = document.getElementById("results");

    form.addEventListener("submit", onSubmit);
    resultsEl.addEventListener("click", onResultsClick);
    window.addEventListener("popstate", runFromUrl);

    loadHealth();
    sectionsReady = loadSections();
    runFromUrl();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
