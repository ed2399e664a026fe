// Agents with their live counts (queued, running, workers seen in the last minute), refreshed every three
// seconds while the tab is visible.
import { api, query } from '../api.js';
import { fill, h } from '../dom.js';
import { ago, shortId } from '../format.js';

const REFRESH_MS = 3000;

export function mountAgents(main) {
  let stopped = false;
  let timer = null;
  const tbody = h('tbody');
  const liveNote = h('span', { class: 'live-note', role: 'status' });
  const error = h('p', { class: 'error', role: 'alert' });
  const empty = h(
    'p',
    { class: 'empty', hidden: true },
    'No agents yet. Create one with ',
    h('code', {}, 'agentjobs agents create <name>'),
    ' and run a worker with its token.',
  );
  fill(
    main,
    h(
      'section',
      { 'aria-labelledby': 'agents-title' },
      h('div', { class: 'page-head' }, h('h1', { id: 'agents-title' }, 'Agents'), liveNote),
      error,
      h(
        'table',
        { class: 'agents responsive' },
        h('caption', { class: 'visually-hidden' }, 'Agents and their live counts'),
        h(
          'thead',
          {},
          h('tr', {}, ['Agent', 'Runtime', 'Queued', 'Running', 'Workers (1 min)', 'Last seen', 'Max concurrency'].map((t) => h('th', { scope: 'col' }, t))),
        ),
        tbody,
      ),
      empty,
    ),
  );

  const refresh = async () => {
    if (stopped) return;
    try {
      const agents = [];
      let cursor;
      for (let page = 0; page < 5; page++) {
        const list = await api(`/v1/agents${query({ limit: 100, cursor })}`);
        agents.push(...list.data);
        if (!list.next_cursor) break;
        cursor = list.next_cursor;
      }
      if (stopped) return;
      agents.sort((a, b) => a.name.localeCompare(b.name));
      fill(tbody, agents.map(row));
      empty.hidden = agents.length > 0;
      error.textContent = '';
      liveNote.textContent = `Live · updated ${new Date().toLocaleTimeString([], { hour12: false })}`;
    } catch (err) {
      if (stopped) return;
      error.textContent = `Could not load agents: ${err.message}`;
      liveNote.textContent = 'Not live: retrying';
    }
    if (!stopped) timer = setTimeout(refresh, document.hidden ? REFRESH_MS * 5 : REFRESH_MS);
  };
  void refresh();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

function row(agent) {
  const { queued, running, workers_seen_last_minute: workers } = agent.counts;
  return h(
    'tr',
    { dataset: { agentId: agent.id } },
    h(
      'td',
      { 'data-label': 'Agent' },
      h('a', { href: `#/jobs?agent=${agent.id}`, title: `Jobs of ${agent.name}` }, agent.name),
      h('div', { class: 'sub' }, h('code', { title: agent.id }, shortId(agent.id)), agent.description ? ` · ${agent.description}` : ''),
    ),
    h('td', { 'data-label': 'Runtime' }, agent.runtime.type === 'model' ? `model: ${agent.runtime.model}` : 'worker'),
    h('td', { 'data-label': 'Queued', class: 'num', dataset: { count: 'queued' } }, String(queued)),
    h('td', { 'data-label': 'Running', class: 'num', dataset: { count: 'running' } }, String(running)),
    h(
      'td',
      { 'data-label': 'Workers (1 min)', class: 'num', dataset: { count: 'workers' } },
      h('span', { class: workers > 0 ? 'dot up' : 'dot down', 'aria-hidden': 'true' }),
      String(workers),
    ),
    h('td', { 'data-label': 'Last seen' }, agent.last_seen_at ? h('time', { datetime: agent.last_seen_at, title: agent.last_seen_at }, ago(agent.last_seen_at)) : 'never'),
    h('td', { 'data-label': 'Max concurrency', class: 'num' }, agent.max_concurrency == null ? 'no limit' : String(agent.max_concurrency)),
  );
}
