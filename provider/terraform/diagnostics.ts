import type { z } from 'zod';
import { snakeCase } from '../../schema';

/** A diagnostic as the plugin protocol carries it, with the attribute path it concerns. */
export interface Diagnostic {
  severity: 'ERROR' | 'WARNING';
  summary: string;
  detail: string;
  attribute?: { steps: ({ attribute_name: string } | { element_key_int: number } | { element_key_string: string })[] };
}

/** Builds a diagnostic; `path` is attribute names and element indexes, e.g. ['scopes', 0]. */
export function diagnostic(
  severity: 'error' | 'warning',
  summary: string,
  detail: string,
  path: (string | number)[] = [],
): Diagnostic {
  return {
    severity: severity === 'error' ? 'ERROR' : 'WARNING',
    summary,
    detail,
    ...(path.length
      ? {
          attribute: {
            steps: path.map((step, index) =>
              typeof step === 'number'
                ? { element_key_int: step }
                : index === 0 || !/^\d+$/.test(step)
                  ? { attribute_name: step }
                  : { element_key_string: step },
            ),
          },
        }
      : {}),
  };
}

/** An error from the API or the network as a diagnostic (SDK errors carry no secrets). */
export function errorDiagnostic(summary: string, error: unknown): Diagnostic {
  const known = error as { message?: string; code?: string; requestId?: string | null };
  const detail = [
    known.message ?? String(error),
    known.code ? `code ${known.code}` : '',
    known.requestId ? `request ${known.requestId}` : '',
  ]
    .filter(Boolean)
    .join('; ');
  return diagnostic('error', summary, detail);
}

/** zod issues as diagnostics pointing at the attribute (and element) that is wrong. */
export function issuesToDiagnostics(issues: z.core.$ZodIssue[]): Diagnostic[] {
  return issues.map((issue) => {
    const path = issue.path.map((step) => (typeof step === 'string' ? snakeCase(step) : step)) as (string | number)[];
    const shown = path
      .map((step, index) => (typeof step === 'number' ? `[${step}]` : index === 0 ? step : `.${step}`))
      .join('');
    return diagnostic('error', `Invalid ${path[0] ?? 'configuration'}`, `${shown}: ${issue.message}`, path);
  });
}
