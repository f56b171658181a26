// The form <-> the URL: what is searched is always in the address bar, so it can be shared
// and the back button works.

import { page } from "./page.js";
import { SEP_SHOWN } from "./render.js";

export var SEP_VALUE = " > ";   // section path as sent to the API (and shown in the select)

export function formParams() {
  var params = new URLSearchParams();
  var q = page.qInput.value.trim();
  if (q) params.set("q", q);
  if (page.sectionSelect.value) params.set("section", page.sectionSelect.value);
  if (page.yearMin.value.trim()) params.set("year_min", page.yearMin.value.trim());
  if (page.yearMax.value.trim()) params.set("year_max", page.yearMax.value.trim());
  return params;
}

export function setUrl(params) {
  var search = params.toString();
  var url = location.pathname + (search ? "?" + search : "");
  if (location.search === (search ? "?" + search : "")) {
    history.replaceState(null, "", url);
  } else {
    history.pushState(null, "", url);
  }
}

function selectSection(value) {
  var sectionSelect = page.sectionSelect;
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

export function fillForm(params) {
  page.qInput.value = params.get("q") || "";
  page.yearMin.value = params.get("year_min") || "";
  page.yearMax.value = params.get("year_max") || "";
  selectSection(params.get("section") || "");
}

export function filterSummary(params) {
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
