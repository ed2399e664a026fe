// Schedules: cron, time zone, next and last run, with pause / resume, run now and delete. Refreshed every five
// seconds while the tab is visible, so a fire (next_run_at moving on) shows without a reload.
import { api, query, AgentNames } from '../api.js';
import { fill, h } from '../dom.js';
import { ago, headline, shortId } from '../format.js';

const REFRESH_MS = 5000;

export function mountSchedules(main) {
  const names = new AgentNames();
  let stopped = false;
  let timer = null;
  const tbody = h('tbody');
  const liveNote = h('span', { class: 'live-note', role: 'status' });
  const error = h('p', { class: 'error', role: 'alert' });
  const empty = h(
    'p',
    { class: 'empty', hidden: true },
    'No schedules yet. Create one with ',
    h('code', {}, 'agentjobs schedules create <agent> --cron "0 9 * * *" --objective …'),
    '.',
  );
  fill(
    main,
    h(
      'section',
      { 'aria-labelledby': 'schedules-title' },
      h('div', { class: 'page-head' }, h('h1', { id: 'schedules-title' }, 'Schedules'), liveNote),
      error,
      h(
        'table',
        { class: 'schedules responsive' },
        h('caption', { class: 'visually-hidden' }, 'Schedules, newest first'),
        h('thead', {}, h('tr', {}, ['Schedule', 'Agent', 'Cron', 'Next run', 'Last run', 'Actions'].map((t) => h('th', { scope: 'col' }, t)))),
        tbody,
      ),
      empty,
    ),
  );

  // An action, then a refresh; its error shows above the table.
  const act = async (work) => {
    try {
      await work();
      error.textContent = '';
    } catch (err) {
      error.textContent = err.message;
    }
    void refresh();
  };

  const refresh = async () => {
    clearTimeout(timer);
    if (stopped) return;
    try {
      const page = await api(`/v1/schedules${query({ limit: 100 })}`);
      await names.load().catch(() => {});
      if (stopped) return;
      fill(tbody, page.data.map((s) => row(s, names, act)));
      empty.hidden = page.data.length > 0;
      error.textContent = '';
      liveNote.textContent = `Live · updated ${new Date().toLocaleTimeString([], { hour12: false })}`;
    } catch (err) {
      if (stopped) return;
      error.textContent = `Could not load schedules: ${err.message}`;
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

function row(schedule, names, act) {
  const paused = schedule.paused;
  const path = `/v1/schedules/${schedule.id}`;
  const button = (label, work, extra = {}) => h('button', { type: 'button', class: 'secondary', onclick: () => act(work), ...extra }, label);
  return h(
    'tr',
    { dataset: { scheduleId: schedule.id } },
    h(
      'td',
      { 'data-label': 'Schedule' },
      h('a', { href: `#/jobs?schedule=${schedule.id}`, title: 'Jobs of this schedule' }, headline(schedule.brief.objective, 60)),
      h('div', { class: 'sub' }, h('code', { title: schedule.id }, shortId(schedule.id)), ` · overlap ${schedule.overlap}`),
    ),
    h('td', { 'data-label': 'Agent' }, names.name(schedule.agent_id)),
    h('td', { 'data-label': 'Cron' }, h('code', {}, schedule.cron), h('div', { class: 'sub' }, schedule.timezone)),
    h(
      'td',
      { 'data-label': 'Next run', dataset: { field: 'next' } },
      paused ? 'paused' : h('time', { datetime: schedule.next_run_at, title: schedule.next_run_at }, new Date(schedule.next_run_at).toLocaleString()),
    ),
    h(
      'td',
      { 'data-label': 'Last run' },
      schedule.last_run_at ? h('time', { datetime: schedule.last_run_at, title: schedule.last_run_at }, ago(schedule.last_run_at)) : 'never',
      schedule.last_job_id ? h('div', { class: 'sub' }, h('a', { href: `#/jobs/${schedule.last_job_id}` }, shortId(schedule.last_job_id))) : '',
    ),
    h(
      'td',
      { 'data-label': 'Actions', class: 'actions' },
      button(paused ? 'Resume' : 'Pause', () => api(path, { method: 'PATCH', body: { paused: !paused } })),
      button('Run now', () => api(`${path}/trigger`, { method: 'POST' })),
      button('Delete', () => (confirm('Delete this schedule? Its jobs stay.') ? api(path, { method: 'DELETE' }) : null)),
    ),
  );
}
