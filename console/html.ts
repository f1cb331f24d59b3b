import htm from 'htm';
import { h, type VNode } from 'preact';

/**
 * Tagged templates for Preact (htm): markup without a JSX compile step. Values are always set as
 * text or properties, never parsed as HTML, so a key named `<img src=x onerror=…>` stays text.
 */
export const html = htm.bind(h) as unknown as (strings: TemplateStringsArray, ...values: unknown[]) => VNode;
