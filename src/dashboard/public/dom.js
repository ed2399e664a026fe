// A tiny element builder. Every piece of data goes in as text (textContent or attributes), never as markup:
// briefs, results and error messages come from other people's agents and must not be able to inject HTML.

/**
 * Creates an element: h('a', { href: '#/jobs', class: 'x' }, 'text', child, [more]).
 * Attributes: `class`, `for`, `on<event>` (a listener), booleans (present when true), anything else as text.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key === 'value' && 'value' in el) el.value = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces the content of `el` with `children`. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** Tells screen-reader users about a change they did not cause by focus (a status that moved). */
export function announce(text) {
  const region = document.getElementById('announcer');
  if (!region) return;
  region.textContent = '';
  // A new text node in a cleared live region is read even when the words repeat.
  setTimeout(() => (region.textContent = text), 50);
}

/** A `<progress>` for a percentage (indeterminate when unknown), labelled for assistive technology. */
export function progressBar(percent, label) {
  const known = typeof percent === 'number' && Number.isFinite(percent);
  const bar = h('progress', { max: '100', 'aria-label': label });
  if (known) bar.value = Math.max(0, Math.min(100, percent));
  return bar;
}

/**
 * A status as a coloured badge. The word carries the meaning too (never colour alone); `cancelling` marks a
 * job whose cancel was requested but not yet confirmed by its agent.
 */
export function statusBadge(status, cancelling = false) {
  return h('span', { class: `badge status-${status}` }, cancelling ? `${status} · cancelling` : status);
}
