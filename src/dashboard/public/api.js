// The dashboard's client of the agentjobs API: the same HTTP API as every other client, authenticated with
// the API key the user signed in with (kept in sessionStorage: gone when the tab closes, never in a cookie,
// so no other site can make the browser send it).

const KEY = 'agentjobs.apiKey';

/** The signed-in API key, or null. */
export function apiKey() {
  return sessionStorage.getItem(KEY);
}

export function signIn(key) {
  sessionStorage.setItem(KEY, key);
}

export function signOut() {
  sessionStorage.removeItem(KEY);
}

/** An error answered by the API: HTTP status, stable code, message. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** Listeners told when the key stops working (revoked, or a new server with a new data dir). */
const onUnauthenticated = new Set();
export function whenUnauthenticated(listener) {
  onUnauthenticated.add(listener);
}

/**
 * Calls the API. Resolves to the parsed body; rejects with ApiError (a 401 also signs the user out).
 * @param {string} path e.g. `/v1/jobs?status=running`
 * @param {{ method?: string, body?: unknown, key?: string, signal?: AbortSignal }} [options]
 */
export async function api(path, options = {}) {
  const key = options.key ?? apiKey();
  const headers = { authorization: `Bearer ${key}`, accept: 'application/json' };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  let response;
  try {
    response = await fetch(path, {
      method: options.method ?? 'GET',
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
      cache: 'no-store',
    });
  } catch (error) {
    if (error.name === 'AbortError') throw error;
    throw new ApiError(0, 'network_error', 'The server cannot be reached. Is agentjobs still running?');
  }
  const text = await response.text();
  let body;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (!response.ok) {
    const error = body?.error ?? { code: 'http_error', message: `HTTP ${response.status}` };
    if (response.status === 401 && options.key === undefined) for (const listener of onUnauthenticated) listener();
    throw new ApiError(response.status, error.code, error.message);
  }
  return body;
}

/** A query string from an object, leaving out empty values. */
export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== null && value !== '') search.set(key, String(value));
  const text = search.toString();
  return text ? `?${text}` : '';
}

/**
 * Agent names by id, fetched once per page view and on demand for ids not yet seen (a job of an agent created
 * after the page loaded).
 */
export class AgentNames {
  constructor() {
    this.names = new Map();
    this.loading = null;
  }
  async load() {
    this.loading ??= (async () => {
      let cursor;
      // Up to 5 pages (500 agents) at once; any other id is looked up alone when it shows up.
      for (let page = 0; page < 5; page++) {
        const list = await api(`/v1/agents${query({ limit: 100, cursor })}`);
        for (const agent of list.data) this.names.set(agent.id, agent.name);
        if (!list.next_cursor) break;
        cursor = list.next_cursor;
      }
    })();
    return this.loading;
  }
  /** The name of an agent (its id until known). Fetches unknown ones in the background and calls `changed`. */
  name(id, changed) {
    const known = this.names.get(id);
    if (known !== undefined) return known;
    this.names.set(id, id);
    api(`/v1/agents/${encodeURIComponent(id)}`)
      .then((agent) => {
        this.names.set(id, agent.name);
        changed?.();
      })
      .catch(() => {});
    return id;
  }
}

/** Checks that an id looks like one of ours before it goes into a link or a URL. */
export function isId(prefix, value) {
  return new RegExp(`^${prefix}_[0-9a-hjkmnp-tv-z]{26}$`).test(value ?? '');
}
