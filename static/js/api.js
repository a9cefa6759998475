// Fetch helpers for the JSON API (docs/api.md).
// Every failure becomes an ApiError carrying the server's {error, field} when there is one.

export class ApiError extends Error {
  constructor(status, message, field = null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.field = field;
  }
}

async function request(method, path, body) {
  const init = { method, headers: { Accept: "application/json" } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (err) {
    throw new ApiError(0, `cannot reach the server (${err.message})`);
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const message = (data && data.error) || `${response.status} ${response.statusText || "error"}`;
    throw new ApiError(response.status, message, (data && data.field) || null);
  }
  return data;
}

export const api = {
  // A page of runs: `query` as docs/api.md "Listing runs" says (limit, before, filters, fold).
  listRuns: (query) => request("GET", `/api/runs?${query}`),
  getRun: (id) => request("GET", `/api/runs/${id}`),
  metrics: (id, after = -1) => request("GET", `/api/runs/${id}/metrics?after=${after}`),
  createRun: (settings) => request("POST", "/api/runs", settings),
  compare: (body) => request("POST", "/api/comparisons", body),
  cancel: (id) => request("POST", `/api/runs/${id}/cancel`),
  rerun: (id) => request("POST", `/api/runs/${id}/rerun`),
  remove: (id) => request("DELETE", `/api/runs/${id}`),
  weights: (id) => request("GET", `/api/runs/${id}/weights`),
  pruning: (id) => request("GET", `/api/runs/${id}/pruning`),
  status: () => request("GET", "/api/status"),
  listStudies: () => request("GET", "/api/studies"),
  // effect: the difference in test accuracy the seeds needed are for (a fraction; omitted: the server's default).
  getStudy: (id, effect) => request("GET", `/api/studies/${id}${effect === undefined ? "" : `?${new URLSearchParams({ effect })}`}`),
  // Two settings of a study ("l1:0.001", "none"), paired by seed.
  comparison: (id, a, b, effect) => request("GET", `/api/studies/${id}/comparison?${new URLSearchParams({ a, b, ...(effect === undefined ? {} : { effect }) })}`),
  createStudy: (body) => request("POST", "/api/studies", body),
  runRecipe: (name, body) => request("POST", `/api/recipes/${encodeURIComponent(name)}/run`, body),
  cancelStudy: (id) => request("POST", `/api/studies/${id}/cancel`),
  removeStudy: (id) => request("DELETE", `/api/studies/${id}`),
};
