/** The sign-in form: the hub's own users (logistics-hub users add). */
import { signIn } from '../api.ts';
import { h } from '../dom.ts';

export function signInView(done: () => void): HTMLElement {
  const user = h('input', { id: 'signin-user', name: 'username', autocomplete: 'username', required: true });
  const pass = h('input', { id: 'signin-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const tenant = h('input', { id: 'signin-tenant', name: 'tenant', value: 'default', autocomplete: 'organization' });
  const error = h('p', { class: 'error', role: 'alert', id: 'signin-error' });
  const button = h('button', { type: 'submit' }, 'Sign in');
  const form = h(
    'form',
    {
      class: 'signin',
      'aria-labelledby': 'signin-title',
      onsubmit: async (e: Event) => {
        e.preventDefault();
        error.textContent = '';
        button.disabled = true;
        try {
          await signIn(user.value.trim(), pass.value, tenant.value.trim());
          done();
        } catch (err) {
          error.textContent = (err as Error).message;
          pass.value = '';
          pass.focus();
        } finally {
          button.disabled = false;
        }
      },
    },
    h('h1', { id: 'signin-title' }, 'Sign in'),
    h('label', { for: 'signin-user' }, 'User name'), user,
    h('label', { for: 'signin-password' }, 'Password'), pass,
    h('label', { for: 'signin-tenant' }, 'Tenant'), tenant,
    button,
    error,
  );
  queueMicrotask(() => user.focus());
  return h('section', { class: 'signin-page' }, form);
}
