// The job list's actions on every job its filters match: cancel them, or run them again. Offered only while a
// filter is set (the API refuses an empty one, which would move every job of the tenant), and confirmed first.
import { api } from '../api.js';
import { h } from '../dom.js';
import { shortId } from '../format.js';

/**
 * The bulk-action bar for the list's filters (`status`, `agent`, `schedule`, `batch`), or null when none is set.
 * `done(message)` is told what happened, and the list refreshes.
 */
export function bulkActions(filters, done) {
  const filter = {};
  if (filters.status) filter.status = filters.status;
  if (filters.agent) filter.agent_id = filters.agent;
  if (filters.schedule) filter.schedule_id = filters.schedule;
  if (filters.batch) filter.batch_id = filters.batch;
  if (Object.keys(filter).length === 0) return null;
  const note = h('span', { class: 'live-note', role: 'status' });
  const act = async (path, verb) => {
    if (!confirm(`${verb} every job that matches these filters?`)) return;
    try {
      const { matched } = await api(path, { method: 'POST', body: { filter } });
      note.textContent = `${matched} ${matched === 1 ? 'job' : 'jobs'} ${verb === 'Cancel' ? 'cancelled' : 're-run'}`;
    } catch (err) {
      note.textContent = err.message;
    }
    done();
  };
  const scope = [filters.schedule ? `schedule ${shortId(filters.schedule)}` : '', filters.batch ? `batch ${shortId(filters.batch)}` : '']
    .filter(Boolean)
    .join(', ');
  return h(
    'div',
    { class: 'bulk-actions', role: 'group', 'aria-label': 'Actions on every matching job' },
    scope ? h('span', {}, `Jobs of ${scope} · `, h('a', { href: '#/jobs' }, 'show all')) : null,
    h('button', { type: 'button', class: 'secondary', onclick: () => act('/v1/jobs/bulk-cancel', 'Cancel') }, 'Cancel matching'),
    h('button', { type: 'button', class: 'secondary', onclick: () => act('/v1/jobs/bulk-rerun', 'Re-run') }, 'Re-run matching'),
    note,
  );
}

/** A button that runs one finished job again and opens the new job. */
export function rerunButton(job) {
  return h(
    'button',
    {
      type: 'button',
      class: 'secondary small',
      title: 'Dispatch this job again, with the same brief',
      onclick: async (event) => {
        event.target.disabled = true;
        try {
          const created = await api(`/v1/jobs/${job.id}/rerun`, { method: 'POST', body: {} });
          location.hash = `#/jobs/${created.id}`;
        } catch (err) {
          event.target.textContent = err.message;
        }
      },
    },
    'Re-run',
  );
}
