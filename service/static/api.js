// Talking to the API: JSON in, or an ApiError carrying a sentence the page can show.

export function ApiError(message) {
  this.message = message;
}

// Fetch JSON; resolves with the body, rejects with ApiError carrying a sentence to show.
export function getJson(url, signal) {
  return request(url, { headers: { Accept: "application/json" }, signal: signal });
}

// POST a JSON body; the same answers and errors as getJson.
export function postJson(url, data, signal) {
  return request(url, {
    method: "POST",
    headers: { Accept: "application/json", "Content-Type": "application/json" },
    body: JSON.stringify(data),
    signal: signal,
  });
}

function request(url, options) {
  return fetch(url, options)
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
