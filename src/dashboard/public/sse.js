// A small Server-Sent Events reader over fetch. EventSource cannot send an Authorization header, and the API
// key must not go in a URL (it would land in logs), so the page reads the stream itself.

/**
 * Parses an SSE byte stream into messages `{ id, event, data }` (https://html.spec.whatwg.org/#event-stream-interpretation):
 * fields per line, a blank line ends a message, lines starting with ':' are comments (keep-alives).
 */
export function createSseParser(onMessage) {
  let buffer = '';
  let data = [];
  let event = '';
  let id = null;
  const line = (text) => {
    if (text === '') {
      if (data.length > 0) onMessage({ id, event: event || 'message', data: data.join('\n') });
      data = [];
      event = '';
      return;
    }
    if (text.startsWith(':')) return;
    const colon = text.indexOf(':');
    const field = colon === -1 ? text : text.slice(0, colon);
    let value = colon === -1 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') data.push(value);
    else if (field === 'event') event = value;
    else if (field === 'id' && !value.includes('\0')) id = value;
  };
  return {
    feed(chunk) {
      buffer += chunk;
      // Lines end with \n, \r\n or \r; keep a trailing partial line (and a lone \r that may precede \n) for later.
      const parts = buffer.split(/\r\n|\r(?!$)|\n/);
      buffer = parts.pop() ?? '';
      for (const part of parts) line(part.endsWith('\r') ? part.slice(0, -1) : part);
    },
  };
}

/**
 * Reads a job's events live: stored ones first, then new ones as they commit. Reconnects after a dropped
 * connection with Last-Event-ID (the server resumes without gap or duplicate) and resolves when the server
 * closes the stream because the job and its subjobs are finished.
 *
 * @param {object} o
 * @param {string} o.url the events URL (with `include=subjobs`)
 * @param {() => string} o.token the API key
 * @param {(event: object) => void} o.onEvent
 * @param {(state: 'live' | 'reconnecting' | 'ended') => void} o.onState
 * @param {AbortSignal} o.signal
 */
export async function followEvents({ url, token, onEvent, onState, signal }) {
  let lastId = null;
  let failures = 0;
  while (!signal.aborted) {
    try {
      const headers = { accept: 'text/event-stream', authorization: `Bearer ${token()}` };
      if (lastId) headers['last-event-id'] = lastId;
      const response = await fetch(url, { headers, signal, cache: 'no-store' });
      if (response.status === 401) throw Object.assign(new Error('unauthenticated'), { status: 401 });
      if (!response.ok) throw Object.assign(new Error(`HTTP ${response.status}`), { status: response.status });
      onState('live');
      const parser = createSseParser((message) => {
        if (message.id) lastId = message.id;
        failures = 0;
        onEvent(JSON.parse(message.data));
      });
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        parser.feed(value);
      }
      // The server closes the stream once the whole tree is finished.
      onState('ended');
      return;
    } catch (error) {
      if (signal.aborted) return;
      if (error.status && error.status >= 400 && error.status < 500) throw error;
      onState('reconnecting');
      failures += 1;
      await new Promise((resolve) => setTimeout(resolve, Math.min(10_000, 500 * 2 ** Math.min(failures, 5))));
    }
  }
}
