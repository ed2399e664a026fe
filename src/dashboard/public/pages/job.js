// The job page: everything about one job and its subtree, kept live by the job's event stream
// (GET /v1/jobs/{id}/events?include=subjobs as Server-Sent Events). Each event updates the timeline at once
// and schedules a re-read of the job (status, tree, tokens, result) and of its webhook deliveries; the page
// never guesses state from events alone, it re-reads what the server says.
import { api, AgentNames, ApiError, apiKey, isId, query } from '../api.js';
import { announce, fill, h, progressBar, statusBadge } from '../dom.js';
import { followEvents } from '../sse.js';
import { clock, clockMs, duration, headline, json, shortId, tokens, TERMINAL } from '../format.js';

const TIMELINE_MAX = 500;

export function mountJob(main, jobId) {
  if (!isId('job', jobId)) {
    fill(main, h('p', { class: 'error', role: 'alert' }, `“${jobId}” is not a job id.`), h('a', { href: '#/jobs' }, 'Back to jobs'));
    return () => {};
  }
  const names = new AgentNames();
  const abort = new AbortController();
  const state = {
    job: null,
    /** Progress of each job of the tree, from its progress events (the tree nodes carry none). */
    progress: new Map(),
    /** When each job of the tree first started, from its running events. */
    started: new Map(),
    deliveries: [],
    /** Delivery messages the user expanded: kept open across refreshes. */
    openDeliveries: new Set(),
    stream: 'connecting',
    treeSignature: '',
  };
  const timers = new Set();
  const later = (fn, ms) => {
    const t = setTimeout(() => (timers.delete(t), fn()), ms);
    timers.add(t);
    return t;
  };

  // ── Layout ─────────────────────────────────────────────────────────────────────────────────────────────
  const el = {
    crumbs: h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }),
    title: h('h1', { id: 'job-title' }, 'Job'),
    id: h('p', { class: 'job-id' }, h('code', {}, jobId)),
    status: h('span', { id: 'job-status' }),
    live: h('span', { class: 'live-note', role: 'status', id: 'stream-state' }, 'Connecting…'),
    actions: h('div', { class: 'actions' }),
    summary: h('dl', { class: 'summary' }),
    progress: h('div', { class: 'progress-block' }),
    tree: h('div', { id: 'tree' }),
    timeline: h('ol', { class: 'timeline', id: 'timeline', 'aria-label': 'Events, newest first' }),
    brief: h('div'),
    result: h('div'),
    error: h('section', { class: 'card error-card', hidden: true, 'aria-labelledby': 'error-title' }),
    deliveries: h('div', { id: 'deliveries' }),
    problem: h('p', { class: 'error', role: 'alert' }),
  };
  fill(
    main,
    el.crumbs,
    h('div', { class: 'page-head' }, el.title, el.status, el.live),
    el.id,
    el.problem,
    el.actions,
    el.summary,
    el.progress,
    h(
      'div',
      { class: 'grid' },
      h(
        'div',
        { class: 'col' },
        h('section', { class: 'card', 'aria-labelledby': 'tree-title' }, h('h2', { id: 'tree-title' }, 'Subjob tree'), el.tree),
        h(
          'section',
          { class: 'card', 'aria-labelledby': 'timeline-title' },
          h('h2', { id: 'timeline-title' }, 'Timeline ', h('span', { class: 'sub' }, '(newest first)')),
          el.timeline,
        ),
      ),
      h(
        'div',
        { class: 'col' },
        el.error,
        h('section', { class: 'card', 'aria-labelledby': 'result-title' }, h('h2', { id: 'result-title' }, 'Result'), el.result),
        h('section', { class: 'card', 'aria-labelledby': 'brief-title' }, h('h2', { id: 'brief-title' }, 'Brief'), el.brief),
        h(
          'section',
          { class: 'card', 'aria-labelledby': 'deliveries-title' },
          h('h2', { id: 'deliveries-title' }, 'Webhook deliveries'),
          el.deliveries,
        ),
      ),
    ),
  );

  // ── Reading ────────────────────────────────────────────────────────────────────────────────────────────
  let jobLoading = null;
  let jobAgain = false;
  const loadJob = async () => {
    if (jobLoading) {
      jobAgain = true;
      return jobLoading;
    }
    jobLoading = (async () => {
      do {
        jobAgain = false;
        try {
          const job = await api(`/v1/jobs/${jobId}`, { signal: abort.signal });
          const before = state.job?.status;
          state.job = job;
          el.problem.textContent = '';
          renderJob();
          if (before && before !== job.status) announce(`Job ${job.status}`);
        } catch (err) {
          if (abort.signal.aborted) return;
          el.problem.textContent = err instanceof ApiError && err.status === 404 ? `No job ${jobId} here (or it belongs to another tenant).` : `Could not load the job: ${err.message}`;
        }
      } while (jobAgain && !abort.signal.aborted);
    })().finally(() => (jobLoading = null));
    return jobLoading;
  };
  let jobTimer = null;
  const scheduleJob = () => {
    jobTimer ??= later(() => {
      jobTimer = null;
      void loadJob();
    }, 120);
  };

  let deliveriesTimer = null;
  const loadDeliveries = async () => {
    clearTimeout(deliveriesTimer);
    timers.delete(deliveriesTimer);
    deliveriesTimer = null;
    try {
      const page = await api(`/v1/jobs/${jobId}/deliveries${query({ limit: 100 })}`, { signal: abort.signal });
      state.deliveries = page.data;
      renderDeliveries();
    } catch (err) {
      if (abort.signal.aborted) return;
      fill(el.deliveries, h('p', { class: 'error' }, `Could not load deliveries: ${err.message}`));
    }
    // Attempts happen in the background without events of their own: look again while any is pending or
    // the tree is still moving.
    const pending = state.deliveries.some((d) => d.status === 'pending');
    const active = state.job && (!TERMINAL.has(state.job.status) || state.stream !== 'ended');
    if (!abort.signal.aborted && (pending || active)) deliveriesTimer = later(loadDeliveries, pending ? 1500 : 3000);
  };
  const scheduleDeliveries = () => {
    if (deliveriesTimer) clearTimeout(deliveriesTimer), timers.delete(deliveriesTimer);
    deliveriesTimer = later(loadDeliveries, 600);
  };

  // ── Rendering ──────────────────────────────────────────────────────────────────────────────────────────
  // The job is re-read after every event; a section is rebuilt only when what it shows changed, so an open
  // <details> stays open and keyboard focus stays on the button it was on.
  const shown = new Map();
  const changed = (section, value) => {
    const signature = JSON.stringify(value);
    if (shown.get(section) === signature) return false;
    shown.set(section, signature);
    return true;
  };
  const renderJob = () => {
    const job = state.job;
    document.title = `${headline(job.brief.objective, 40)} · ${job.status} · agentjobs`;
    fill(
      el.crumbs,
      h('a', { href: '#/jobs' }, 'Jobs'),
      job.root_job_id !== job.id ? [' › ', h('a', { href: `#/jobs/${job.root_job_id}` }, `root ${shortId(job.root_job_id)}`)] : null,
      job.parent_job_id && job.parent_job_id !== job.root_job_id ? [' › ', h('a', { href: `#/jobs/${job.parent_job_id}` }, `parent ${shortId(job.parent_job_id)}`)] : null,
      ' › ',
      h('span', { 'aria-current': 'page' }, shortId(job.id)),
    );
    fill(el.status, statusBadge(job.status, Boolean(job.cancel_requested_at) && !TERMINAL.has(job.status)));
    el.status.dataset.status = job.status;
    // The objective is what people recognise a job by; the id is there to copy.
    fill(el.title, headline(job.brief.objective, 160));
    renderActions();
    renderSummary();
    renderProgress();
    renderTree();
    renderBrief();
    renderResult();
    renderError();
    for (const who of el.timeline.querySelectorAll('[data-who]')) labelWho(who);
  };

  const renderSummary = () => {
    const job = state.job;
    const item = (label, ...value) => h('div', {}, h('dt', {}, label), h('dd', {}, ...value));
    fill(
      el.summary,
      item('Agent', names.name(job.agent_id, renderJobSoon), ' ', h('code', { class: 'sub' }, shortId(job.agent_id))),
      item('Attempt', `${job.attempt} of ${job.max_attempts}`),
      item('Created', h('time', { datetime: job.created_at, title: job.created_at }, clock(job.created_at))),
      item('Started', job.started_at ? h('time', { datetime: job.started_at, title: job.started_at }, clock(job.started_at)) : '—'),
      item('Finished', job.completed_at ? h('time', { datetime: job.completed_at, title: job.completed_at }, clock(job.completed_at)) : '—'),
      item('Elapsed', h('span', { 'data-elapsed': job.id }, elapsedText(job.id, job.started_at ?? job.created_at, job.completed_at, job.status))),
      item('Tokens', tokens(job.tokens_used), job.tokens_used !== job.tokens_used_self ? h('span', { class: 'sub' }, ` (own ${tokens(job.tokens_used_self)})`) : null),
      job.deadline_at ? item('Deadline', h('time', { datetime: job.deadline_at, title: job.deadline_at }, clock(job.deadline_at))) : null,
    );
  };

  const renderProgress = () => {
    const job = state.job;
    const percent = job.status === 'completed' ? 100 : job.progress?.percent;
    if (!job.progress && TERMINAL.has(job.status) && job.status !== 'completed') return fill(el.progress);
    fill(
      el.progress,
      h('label', { for: 'job-progress' }, 'Progress'),
      Object.assign(progressBar(percent, 'Job progress'), { id: 'job-progress' }),
      h('span', { class: 'pct' }, typeof percent === 'number' ? `${Math.round(percent)} %` : job.status === 'queued' ? 'waiting for a worker' : '—'),
      job.progress?.message && !TERMINAL.has(job.status) ? h('p', { class: 'sub' }, job.progress.message) : null,
    );
  };

  let confirming = false;
  const renderActions = () => {
    const job = state.job;
    if (!changed('actions', [job.status, job.cancel_requested_at, confirming, countOpen(job.subjobs)])) return;
    const finished = TERMINAL.has(job.status);
    if (finished) return fill(el.actions);
    if (job.cancel_requested_at) {
      return fill(el.actions, h('p', { class: 'note' }, 'Cancel requested: waiting for the agents to confirm that they stopped.'));
    }
    if (!confirming) {
      return fill(
        el.actions,
        h('button', { type: 'button', class: 'danger', id: 'cancel-job', onclick: () => ((confirming = true), renderActions(), document.getElementById('cancel-confirm')?.focus()) }, 'Cancel job…'),
      );
    }
    const open = countOpen(job.subjobs);
    fill(
      el.actions,
      h(
        'div',
        { class: 'confirm', role: 'group', 'aria-labelledby': 'cancel-question' },
        h('p', { id: 'cancel-question' }, `Cancel this job${open ? ` and its ${open} unfinished subjob${open === 1 ? '' : 's'}` : ''}? Running agents are asked to stop.`),
        h('button', { type: 'button', class: 'danger', id: 'cancel-confirm', onclick: cancel }, 'Yes, cancel it'),
        h('button', { type: 'button', class: 'secondary', onclick: () => ((confirming = false), renderActions()) }, 'Keep running'),
      ),
    );
  };
  const cancel = async () => {
    try {
      state.job = await api(`/v1/jobs/${jobId}/cancel`, { method: 'POST', signal: abort.signal });
      confirming = false;
      announce('Cancel requested');
      renderJob();
    } catch (err) {
      el.problem.textContent = err instanceof ApiError && err.code === 'job_already_finished' ? 'The job finished before the cancel arrived.' : `Could not cancel: ${err.message}`;
      confirming = false;
      void loadJob();
    }
  };

  const renderTree = () => {
    const job = state.job;
    const signature = JSON.stringify([job.status, job.tokens_used, job.subjobs, [...state.progress], job.progress]);
    if (signature === state.treeSignature) return;
    state.treeSignature = signature;
    const root = { id: job.id, agent_id: job.agent_id, status: job.status, created_at: job.created_at, completed_at: job.completed_at, tokens_used: job.tokens_used, subjobs: job.subjobs };
    fill(el.tree, h('ul', { class: 'tree', role: 'list' }, treeNode(root, true)), job.subjobs.length === 0 ? h('p', { class: 'sub' }, 'No subjobs (yet).') : null);
  };
  const treeNode = (node, isCurrent) => {
    const progress = isCurrent ? state.job.progress : state.progress.get(node.id);
    const percent = node.status === 'completed' ? 100 : progress?.percent;
    const showBar = !TERMINAL.has(node.status) || node.status === 'completed';
    return h(
      'li',
      {},
      h(
        'div',
        { class: `node${isCurrent ? ' current' : ''}`, dataset: { jobId: node.id, status: node.status } },
        isCurrent ? h('strong', {}, names.name(node.agent_id, renderJobSoon)) : h('a', { href: `#/jobs/${node.id}` }, names.name(node.agent_id, renderJobSoon)),
        statusBadge(node.status),
        showBar ? progressBar(percent, `Progress of ${node.id}`) : null,
        h('span', { class: 'pct' }, typeof percent === 'number' ? `${Math.round(percent)}%` : ''),
        h('span', { class: 'num' }, `${tokens(node.tokens_used)} tok`),
        h('span', { class: 'num', 'data-elapsed': node.id }, elapsedText(node.id, null, node.completed_at, node.status, node.created_at)),
        h('code', { class: 'sub', title: node.id }, shortId(node.id)),
        progress?.message && !TERMINAL.has(node.status) ? h('span', { class: 'node-message' }, headline(progress.message, 80)) : null,
      ),
      node.subjobs.length ? h('ul', { role: 'list' }, node.subjobs.map((child) => treeNode(child, false))) : null,
    );
  };
  let renderSoon = null;
  const renderJobSoon = () => {
    renderSoon ??= later(() => {
      renderSoon = null;
      state.treeSignature = '';
      if (state.job) renderJob();
    }, 50);
  };

  /** Elapsed time of a job of the tree, from its first start (or creation) to its end (or now). */
  const elapsedText = (id, startedAt, completedAt, status, createdAt) => {
    if (status === 'queued') return 'queued';
    const start = Date.parse(startedAt ?? state.started.get(id) ?? createdAt ?? state.job.created_at);
    const end = completedAt ? Date.parse(completedAt) : Date.now();
    return duration(end - start);
  };
  // Running clocks tick in place, without rebuilding the tree (which would move keyboard focus).
  const tick = setInterval(() => {
    if (!state.job) return;
    for (const span of main.querySelectorAll('[data-elapsed]')) {
      const id = span.dataset.elapsed;
      const node = id === state.job.id ? state.job : findNode(state.job.subjobs, id);
      if (node && !TERMINAL.has(node.status) && node.status !== 'queued') {
        span.textContent = elapsedText(id, node.started_at ?? null, null, node.status, node.created_at);
      }
    }
  }, 1000);

  const renderBrief = () => {
    const { brief, metadata, observers } = state.job;
    if (!changed('brief', [brief, metadata, observers])) return;
    const block = (label, content) => [h('h3', {}, label), content];
    fill(
      el.brief,
      block('Objective', h('pre', { class: 'text' }, brief.objective)),
      brief.context ? block('Context', h('pre', { class: 'text' }, brief.context)) : null,
      brief.constraints && Object.keys(brief.constraints).length ? block('Constraints', h('pre', {}, json(brief.constraints))) : null,
      Object.keys(metadata ?? {}).length ? block('Metadata', h('pre', {}, json(metadata))) : null,
      observers?.length ? block('Observers', h('ul', {}, observers.map((o) => h('li', {}, h('code', {}, o.url), ` — ${o.events.join(', ')}`)))) : null,
    );
  };

  const renderResult = () => {
    const job = state.job;
    const schema = job.brief.output_schema;
    if (!changed('result', [job.status, job.result, schema])) return;
    fill(
      el.result,
      job.status === 'completed'
        ? h('pre', { id: 'result', class: 'result' }, json(job.result))
        : h('p', { class: 'sub' }, TERMINAL.has(job.status) ? `No result: the job ${job.status}.` : 'No result yet.'),
      schema
        ? h(
            'details',
            { class: 'schema' },
            h('summary', {}, job.status === 'completed' ? 'Output schema it was held to' : 'Output schema it will be held to'),
            h('pre', {}, json(schema)),
          )
        : h('p', { class: 'sub' }, 'No output schema: any JSON result is accepted.'),
    );
  };

  const renderError = () => {
    const error = state.job.error;
    if (!changed('error', error)) return;
    el.error.hidden = !error;
    if (!error) return fill(el.error);
    fill(
      el.error,
      h('h2', { id: 'error-title' }, 'Error'),
      h('p', {}, h('code', { class: 'error-code' }, error.code), ' ', error.message ?? ''),
      error.details !== undefined ? h('pre', {}, json(error.details)) : null,
    );
  };

  const renderDeliveries = () => {
    if (!changed('deliveries', [state.deliveries, Boolean(state.job?.observers?.length)])) return;
    // Rebuilt lists lose focus; put it back on the same message's control.
    const focused = document.activeElement?.closest?.('details.delivery')?.dataset.msgId;
    const focusedRetry = document.activeElement?.classList?.contains('retry');
    if (state.deliveries.length === 0) {
      const observed = state.job?.observers?.length;
      return fill(el.deliveries, h('p', { class: 'sub' }, observed ? 'No webhook messages yet.' : 'No observers: this job sends no webhooks (ancestors’ observers show on their page).'));
    }
    fill(el.deliveries, h('ul', { class: 'deliveries', role: 'list' }, state.deliveries.map(deliveryItem)));
    if (focused) el.deliveries.querySelector(`details[data-msg-id="${focused}"] ${focusedRetry ? 'button.retry' : 'summary'}`)?.focus();
  };
  const deliveryItem = (message) => {
    const last = message.attempts[message.attempts.length - 1];
    const details = h(
      'details',
      { class: 'delivery', dataset: { msgId: message.id, status: message.status }, open: state.openDeliveries.has(message.id) },
      h(
        'summary',
        {},
        h('span', { class: 'type' }, message.type),
        h('span', { class: 'sub' }, ` #${message.sequence} · ${shortId(message.job_id)}`),
        ' ',
        statusBadge(message.status),
        h('span', { class: 'sub' }, ` ${message.attempts.length} attempt${message.attempts.length === 1 ? '' : 's'}${last ? ` · last: ${last.status_code ?? last.outcome}` : ''}`),
      ),
      h(
        'div',
        { class: 'delivery-body' },
        h(
          'dl',
          { class: 'summary compact' },
          h('dt', {}, 'Endpoint'),
          h('dd', {}, h('code', {}, message.url)),
          h('dt', {}, 'Message'),
          h('dd', {}, h('code', {}, message.id)),
          h('dt', {}, 'About'),
          h('dd', {}, message.job_id === jobId ? 'this job' : h('a', { href: `#/jobs/${message.job_id}` }, shortId(message.job_id))),
          message.next_attempt_at ? [h('dt', {}, 'Next attempt'), h('dd', {}, clock(message.next_attempt_at))] : null,
          message.delivered_at ? [h('dt', {}, 'Delivered'), h('dd', {}, clock(message.delivered_at))] : null,
        ),
        message.attempts.length
          ? h(
              'table',
              { class: 'attempts' },
              h('caption', { class: 'visually-hidden' }, `Attempts of ${message.id}`),
              h('thead', {}, h('tr', {}, ['Time', 'Status', 'Latency', 'Outcome', 'Error'].map((t) => h('th', { scope: 'col' }, t)))),
              h(
                'tbody',
                {},
                message.attempts.map((a) =>
                  h(
                    'tr',
                    { dataset: { outcome: a.outcome } },
                    h('td', {}, clockMs(a.attempted_at)),
                    h('td', {}, a.status_code ?? '—'),
                    h('td', { class: 'num' }, `${a.latency_ms} ms`),
                    h('td', {}, a.outcome),
                    h('td', { class: 'wrap' }, a.error ?? ''),
                  ),
                ),
              ),
            )
          : h('p', { class: 'sub' }, 'Not attempted yet.'),
        h(
          'button',
          {
            type: 'button',
            class: 'secondary retry',
            'aria-describedby': `retry-help-${message.id}`,
            onclick: (event) => retry(message, event.currentTarget),
          },
          'Retry now',
        ),
        h('span', { class: 'sub', id: `retry-help-${message.id}` }, ' Sends this message again now, whatever happened before.'),
      ),
    );
    details.addEventListener('toggle', () => (details.open ? state.openDeliveries.add(message.id) : state.openDeliveries.delete(message.id)));
    return h('li', {}, details);
  };
  const retry = async (message, button) => {
    button.disabled = true;
    try {
      await api(`/v1/deliveries/${message.id}/retry`, { method: 'POST', signal: abort.signal });
      announce('Retry queued');
      await loadDeliveries();
    } catch (err) {
      if (!abort.signal.aborted) el.problem.textContent = `Could not retry: ${err.message}`;
    } finally {
      button.disabled = false;
    }
  };

  // ── Events ─────────────────────────────────────────────────────────────────────────────────────────────
  const onEvent = (event) => {
    if (event.type === 'job.progress') state.progress.set(event.job_id, event.data);
    if (event.type === 'job.running' && !state.started.has(event.job_id)) state.started.set(event.job_id, event.created_at);
    el.timeline.prepend(timelineItem(event));
    while (el.timeline.childElementCount > TIMELINE_MAX) el.timeline.lastElementChild.remove();
    scheduleJob();
    if (event.type !== 'job.progress' && event.type !== 'job.tool_call') scheduleDeliveries();
  };
  const timelineItem = (event) => {
    const own = event.job_id === jobId;
    const who = own ? h('span', { class: 'who' }) : h('a', { class: 'who', href: `#/jobs/${event.job_id}`, title: event.job_id });
    who.dataset.who = event.job_id;
    labelWho(who);
    return h(
      'li',
      { dataset: { type: event.type, jobId: event.job_id } },
      h('time', { datetime: event.created_at, title: event.created_at }, clockMs(event.created_at)),
      h('span', { class: `ev ev-${event.type.replace('job.', '')}` }, EVENT_LABELS[event.type] ?? event.type.replace('job.', '')),
      who,
      h('span', { class: 'what' }, describe(event)),
    );
  };
  /** Names the job of a timeline line by its agent, once the tree (re-read after events) says which agent. */
  const labelWho = (who) => {
    const id = who.dataset.who;
    const node = state.job && (id === state.job.id ? state.job : findNode(state.job.subjobs, id));
    const label = node ? `${names.name(node.agent_id, renderJobSoon)}${id === jobId ? '' : ` ${shortId(id).slice(-4)}`}` : shortId(id);
    if (who.textContent !== label) who.textContent = label;
  };

  const setStream = (value) => {
    state.stream = value;
    el.live.textContent = { live: '● Live', reconnecting: 'Reconnecting…', ended: 'Finished: no more events', connecting: 'Connecting…' }[value] ?? value;
    el.live.dataset.state = value;
  };

  // ── Start ──────────────────────────────────────────────────────────────────────────────────────────────
  void names.load().then(() => state.job && renderJobSoon(), () => {});
  void loadJob().then(() => loadDeliveries());
  followEvents({
    url: `/v1/jobs/${jobId}/events?include=subjobs`,
    token: apiKey,
    onEvent,
    onState: (value) => {
      setStream(value);
      if (value === 'ended') {
        void loadJob();
        void loadDeliveries();
      }
    },
    signal: abort.signal,
  }).catch((err) => {
    if (abort.signal.aborted) return;
    setStream('stopped');
    el.live.textContent = `Not live: ${err.message}`;
  });

  return () => {
    abort.abort();
    clearInterval(tick);
    for (const t of timers) clearTimeout(t);
  };
}

/** Short names of event types, for the timeline's narrow column. */
const EVENT_LABELS = {
  'job.queued': 'queued',
  'job.running': 'running',
  'job.progress': 'progress',
  'job.subjob_dispatched': 'subjob',
  'job.tool_call': 'tool call',
  'job.completed': 'completed',
  'job.failed': 'failed',
  'job.cancelled': 'cancelled',
  'job.cancel_requested': 'cancelling',
  'job.error': 'error',
};

/** One line of the timeline, in words. */
function describe(event) {
  const d = event.data ?? {};
  switch (event.type) {
    case 'job.queued':
      return d.reason === 'retry' ? `back in the queue for attempt ${d.attempt}: ${d.error?.message ?? 'retryable failure'}` : 'queued';
    case 'job.running':
      return `started (attempt ${d.attempt ?? 1})`;
    case 'job.progress':
      return [typeof d.percent === 'number' ? `${Math.round(d.percent)} %` : null, d.message].filter(Boolean).join(' — ') || 'progress';
    case 'job.subjob_dispatched':
      return `dispatched subjob ${shortId(d.subjob_id)}`;
    case 'job.tool_call':
      return `${d.allowed === false ? 'refused' : 'called'} tool ${d.tool}`;
    case 'job.completed':
      return 'completed';
    case 'job.failed':
      return `failed: ${d.error?.code ?? ''} ${d.error?.message ?? ''}`.trim();
    case 'job.cancelled':
      return `cancelled${d.error?.code ? ` (${d.error.code})` : ''}${d.confirmed_by ? `, confirmed by the ${d.confirmed_by}` : ''}`;
    case 'job.cancel_requested':
      return `cancel requested${d.reason ? ` (${d.reason})` : ''}`;
    default:
      return JSON.stringify(d);
  }
}

function countOpen(nodes) {
  return nodes.reduce((n, node) => n + (TERMINAL.has(node.status) ? 0 : 1) + countOpen(node.subjobs), 0);
}

function findNode(nodes, id) {
  for (const node of nodes) {
    if (node.id === id) return node;
    const found = findNode(node.subjobs, id);
    if (found) return found;
  }
  return null;
}
