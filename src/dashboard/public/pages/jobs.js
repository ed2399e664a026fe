// The job list: filters (status, agent, top-level only) kept in the URL so a filtered view can be shared,
// refreshed every two seconds while the tab is visible. There is no tenant-wide event stream, and one cheap
// list request every two seconds is lighter than a stream per job.
import { api, query, AgentNames, ApiError } from '../api.js';
import { h, fill, progressBar, statusBadge } from '../dom.js';
import { ago, duration, elapsed, headline, shortId, tokens, TERMINAL } from '../format.js';
import { bulkActions, rerunButton } from './bulk-actions.js';

const STATUSES = ['queued', 'running', 'completed', 'failed', 'cancelled'];
const REFRESH_MS = 2000;

export function mountJobs(main, params) {
  const names = new AgentNames();
  const filters = {
    status: params.get('status') ?? '',
    agent: params.get('agent') ?? '',
    schedule: params.get('schedule') ?? '',
    batch: params.get('batch') ?? '',
  };
  let limit = 25;
  let stopped = false;
  let timer = null;
  let lastJobs = [];
  let nextCursor = null;

  const statusSelect = h(
    'select',
    { id: 'filter-status', name: 'status' },
    h('option', { value: '' }, 'Any status'),
    STATUSES.map((s) => h('option', { value: s, selected: s === filters.status }, s)),
  );
  const agentSelect = h('select', { id: 'filter-agent', name: 'agent' }, h('option', { value: '' }, 'Any agent'));
  const liveNote = h('span', { class: 'live-note', role: 'status' });
  const tbody = h('tbody');
  const empty = h('p', { class: 'empty', hidden: true }, 'No jobs match. Dispatch one with ', h('code', {}, 'agentjobs dispatch <agent> --objective …'), '.');
  const error = h('p', { class: 'error', role: 'alert' });
  const more = h('button', { type: 'button', class: 'secondary', hidden: true }, 'Show more');

  const setFilter = () => {
    // Updating the hash re-mounts the page with the new filters (and keeps them in history).
    location.hash = `#/jobs${query({ status: statusSelect.value, agent: agentSelect.value })}`;
  };
  statusSelect.addEventListener('change', setFilter);
  agentSelect.addEventListener('change', setFilter);
  more.addEventListener('click', () => {
    limit = Math.min(100, limit + 25);
    void refresh();
  });

  fill(
    main,
    h(
      'section',
      { 'aria-labelledby': 'jobs-title' },
      h('div', { class: 'page-head' }, h('h1', { id: 'jobs-title' }, 'Jobs'), liveNote),
      h(
        'form',
        { class: 'filters', 'aria-label': 'Filter jobs', onsubmit: (e) => e.preventDefault() },
        h('div', { class: 'field' }, h('label', { for: 'filter-status' }, 'Status'), statusSelect),
        h('div', { class: 'field' }, h('label', { for: 'filter-agent' }, 'Agent'), agentSelect),
      ),
      error,
      h(
        'table',
        { class: 'jobs responsive' },
        h('caption', { class: 'visually-hidden' }, 'Jobs, newest first'),
        h(
          'thead',
          {},
          h('tr', {}, ['Job', 'Agent', 'Status', 'Progress', 'Tokens', 'Created', 'Duration'].map((t) => h('th', { scope: 'col' }, t))),
        ),
        tbody,
      ),
      empty,
      more,
    ),
  );

  const render = () => {
    fill(tbody, lastJobs.map((job) => row(job, names, render)));
    empty.hidden = lastJobs.length > 0;
    more.hidden = !nextCursor || limit >= 100;
  };

  const refresh = async () => {
    clearTimeout(timer);
    if (stopped) return;
    try {
      const page = await api(
        `/v1/jobs${query({ limit, status: filters.status, agent_id: filters.agent, schedule_id: filters.schedule, batch_id: filters.batch })}`,
      );
      if (stopped) return;
      lastJobs = page.data;
      nextCursor = page.next_cursor;
      error.textContent = '';
      liveNote.textContent = `Live · updated ${new Date().toLocaleTimeString([], { hour12: false })}`;
      render();
    } catch (err) {
      if (stopped) return;
      error.textContent = err instanceof ApiError && err.code === 'invalid_request' ? err.message : `Could not load jobs: ${err.message}`;
      liveNote.textContent = 'Not live: retrying';
    }
    if (!stopped) timer = setTimeout(() => (document.hidden ? waitVisible() : refresh()), REFRESH_MS);
  };
  // A hidden tab stops polling; it refreshes as soon as it is seen again.
  const waitVisible = () => {
    const onVisible = () => {
      if (document.hidden) return;
      document.removeEventListener('visibilitychange', onVisible);
      void refresh();
    };
    document.addEventListener('visibilitychange', onVisible);
  };

  const actions = bulkActions(filters, () => void refresh());
  if (actions) main.querySelector('form.filters').after(actions);

  names
    .load()
    .then(() => {
      if (stopped) return;
      const agents = [...names.names].sort((a, b) => a[1].localeCompare(b[1]));
      agentSelect.append(...agents.map(([id, name]) => h('option', { value: id, selected: id === filters.agent }, name)));
      render();
    })
    .catch(() => {});
  void refresh();

  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

function row(job, names, rerender) {
  const link = `#/jobs/${job.id}`;
  const percent = job.status === 'completed' ? 100 : job.progress?.percent;
  return h(
    'tr',
    { dataset: { jobId: job.id, status: job.status } },
    h(
      'td',
      { 'data-label': 'Job' },
      h('a', { href: link, class: 'job-link' }, headline(job.brief.objective, 90)),
      h(
        'div',
        { class: 'sub' },
        h('code', { title: job.id }, shortId(job.id)),
        job.parent_job_id ? h('span', {}, ' · subjob of ', h('a', { href: `#/jobs/${job.parent_job_id}` }, shortId(job.parent_job_id))) : null,
        job.subjobs.length ? h('span', {}, ` · ${countTree(job.subjobs)} subjobs`) : null,
      ),
    ),
    h('td', { 'data-label': 'Agent' }, names.name(job.agent_id, rerender)),
    h(
      'td',
      { 'data-label': 'Status' },
      statusBadge(job.status, Boolean(job.cancel_requested_at) && !TERMINAL.has(job.status)),
      TERMINAL.has(job.status) ? rerunButton(job) : null,
    ),
    h(
      'td',
      { 'data-label': 'Progress' },
      TERMINAL.has(job.status) && job.status !== 'completed' ? '—' : progressBar(percent, `Progress of ${job.id}`),
      job.progress?.message && !TERMINAL.has(job.status) ? h('div', { class: 'sub' }, headline(job.progress.message, 60)) : null,
    ),
    h('td', { 'data-label': 'Tokens', class: 'num' }, tokens(job.tokens_used)),
    h('td', { 'data-label': 'Created' }, h('time', { datetime: job.created_at, title: job.created_at }, ago(job.created_at))),
    h('td', { 'data-label': 'Duration', class: 'num' }, job.status === 'queued' ? '—' : duration(elapsed(job))),
  );
}

function countTree(nodes) {
  return nodes.reduce((n, node) => n + 1 + countTree(node.subjobs), 0);
}
