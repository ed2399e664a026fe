// The dashboard's shell: a hash router (so the server serves one page and deep links still work), the
// sign-in gate, and the lifecycle of pages: each page's mount() returns a cleanup that stops its timers and
// streams when the user navigates away.
import { apiKey, signIn, signOut, whenUnauthenticated } from './api.js';
import { mountSignIn } from './pages/sign-in.js';
import { mountJobs } from './pages/jobs.js';
import { mountJob } from './pages/job.js';
import { mountAgents } from './pages/agents.js';
import { mountSchedules } from './pages/schedules.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
let cleanup = null;

/** `#/jobs/job_x?status=running` → { path: ['jobs', 'job_x'], params: URLSearchParams }. */
function parseHash() {
  const hash = location.hash.replace(/^#/, '') || '/jobs';
  const [path, search = ''] = hash.split('?');
  return { path: path.split('/').filter(Boolean), params: new URLSearchParams(search) };
}

function route() {
  cleanup?.();
  cleanup = null;
  const { path, params } = parseHash();
  const signedIn = Boolean(apiKey());
  nav.hidden = !signedIn;
  if (!signedIn || path[0] === 'sign-in') {
    document.title = 'Sign in · agentjobs';
    cleanup = mountSignIn(main, { next: params.get('next') ?? '' });
    return;
  }
  const section = path[0] === 'agents' || path[0] === 'schedules' ? path[0] : 'jobs';
  for (const link of nav.querySelectorAll('[data-nav]')) {
    if (link.dataset.nav === section) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  if (path[0] === 'agents') cleanup = mountAgents(main);
  else if (path[0] === 'schedules') cleanup = mountSchedules(main);
  else if (path[0] === 'jobs' && path[1]) cleanup = mountJob(main, path[1]);
  else cleanup = mountJobs(main, params);
}

/**
 * `#key=ak_…` signs in at once (the demo prints such a link). The fragment never reaches the server; it is
 * removed from the address bar and history straight away.
 */
function signInFromFragment() {
  const match = /^#key=(ak_[A-Za-z0-9_-]+)$/.exec(location.hash);
  if (!match) return;
  signIn(match[1]);
  history.replaceState(null, '', `${location.pathname}#/jobs`);
}

document.getElementById('sign-out').addEventListener('click', () => {
  signOut();
  location.hash = '#/sign-in';
});
whenUnauthenticated(() => {
  signOut();
  const { path } = parseHash();
  location.hash = `#/sign-in?next=${encodeURIComponent(path.join('/'))}`;
});

window.addEventListener('hashchange', route);
signInFromFragment();
route();
