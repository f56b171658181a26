// Results as DOM nodes. No innerHTML with data: every piece of text from the list, the query
// or the API goes through textContent, and only http(s) URLs become links.

import { page } from "./page.js";

export var SEP_SHOWN = " › ";   // section path as shown under a result

export function el(tag, className, text) {
  var node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

export function isWebUrl(url) {
  return typeof url === "string" && /^https?:\/\//i.test(url);
}

export function quoted(text) {
  return "\u201c" + text + "\u201d";
}

export function plural(n, one, many) {
  return n + " " + (n === 1 ? one : many);
}

export function renderPaper(paper) {
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

  if (Array.isArray(paper.tags) && paper.tags.length) {
    var tags = el("p", "tags");
    tags.setAttribute("aria-label", "tags");
    paper.tags.forEach(function (tag) {
      tags.appendChild(el("span", "tag", tag));
    });
    li.appendChild(tags);
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

export function renderResults(list) {
  var frag = document.createDocumentFragment();
  list.forEach(function (paper) {
    if (paper && typeof paper === "object") frag.appendChild(renderPaper(paper));
  });
  page.resultsEl.textContent = "";
  page.resultsEl.appendChild(frag);
}
