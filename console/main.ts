import { render } from 'preact';
import { App } from './app';
import { html } from './html';
import { interceptLinks } from './router';
import './style.css';

/** The console's entry point: one module, loaded by index.html under the strict CSP. */
interceptLinks();
const root = document.getElementById('app');
if (root) {
  root.textContent = '';
  render(html`<${App} />`, root);
}
