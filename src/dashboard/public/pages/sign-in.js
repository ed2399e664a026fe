// Sign-in: an API key (ak_…), checked against the API before it is kept for this tab.
import { api, ApiError, signIn } from '../api.js';
import { h, fill } from '../dom.js';

export function mountSignIn(main, { next }) {
  const input = h('input', {
    id: 'api-key',
    name: 'api-key',
    type: 'password',
    autocomplete: 'off',
    spellcheck: 'false',
    required: true,
    placeholder: 'ak_…',
    'aria-describedby': 'api-key-help',
  });
  const error = h('p', { class: 'error', role: 'alert', id: 'sign-in-error' });
  const button = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
  const form = h(
    'form',
    { class: 'card sign-in', 'aria-labelledby': 'sign-in-title' },
    h('h1', { id: 'sign-in-title' }, 'Sign in'),
    h('label', { for: 'api-key' }, 'API key'),
    input,
    h(
      'p',
      { class: 'help', id: 'api-key-help' },
      'The key the server printed on its first start, also in ',
      h('code', {}, '<data-dir>/admin.key'),
      '. It stays in this tab only and is sent to this server alone.',
    ),
    error,
    button,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const key = input.value.trim();
    error.textContent = '';
    button.disabled = true;
    try {
      // Any cheap authenticated read proves the key.
      await api('/v1/agents?limit=1', { key });
      signIn(key);
      location.hash = next ? `#/${next}` : '#/jobs';
    } catch (err) {
      error.textContent =
        err instanceof ApiError && err.status === 401 ? 'This key is not valid on this server (revoked, or from another data dir).' : err.message;
      input.focus();
    } finally {
      button.disabled = false;
    }
  });
  fill(main, form);
  input.focus();
  return () => {};
}
