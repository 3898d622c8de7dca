// Vitest: unmount what each test rendered (testing-library cleans up by itself only with globals),
// and what jsdom lacks for every test: modal <dialog>s, a method="dialog" form's submission, and
// scrolling (preact-iso scrolls to the top when it navigates).
import { afterEach } from 'vitest';
import { cleanup } from '@testing-library/preact';

afterEach(() => cleanup());

// showModal() opens the dialog as an attribute; close() drops it and fires "close", as browsers do.
HTMLDialogElement.prototype.showModal = function (this: HTMLDialogElement) {
  this.setAttribute('open', '');
};
HTMLDialogElement.prototype.close = function (this: HTMLDialogElement) {
  if (!this.hasAttribute('open')) return;
  this.removeAttribute('open');
  this.dispatchEvent(new Event('close'));
};

// jsdom implements no form submission: a method="dialog" form's default action (close the dialog)
// would be reported as "not implemented". The page's own submit handler still runs.
document.addEventListener('submit', (e) => {
  if ((e.target as HTMLFormElement).getAttribute('method') === 'dialog') e.preventDefault();
});

// requestSubmit() where jsdom has none: a submit event the form's handler sees, with its submitter.
if (typeof HTMLFormElement.prototype.requestSubmit !== 'function')
  HTMLFormElement.prototype.requestSubmit = function (this: HTMLFormElement, submitter?: HTMLElement | null) {
    const ev = new Event('submit', { bubbles: true, cancelable: true });
    Object.defineProperty(ev, 'submitter', { value: submitter ?? null });
    this.dispatchEvent(ev);
  };

window.scrollTo = () => {};
