import type { ParseArgsConfig } from 'node:util';
import { z } from 'zod';
import { KEY_POLICY, type KeyPatch, POLICY_FIELDS, type PolicyField } from '../schema';

/** A command-line mistake: printed with the usage hint, exit code 2. */
export class UsageError extends Error {}

/** How a policy field reads from the command line, by the type of value the API shows for it. */
type FlagKind = 'list' | 'boolean' | 'number' | 'object' | 'string';

/** The schema without its `null` option, and whether it had one. */
function concrete(schema: z.ZodType): { inner: z.ZodType; nullable: boolean } {
  return schema instanceof z.ZodNullable
    ? { inner: schema.unwrap() as z.ZodType, nullable: true }
    : { inner: schema, nullable: false };
}

function kindOf(field: PolicyField): FlagKind {
  const { inner } = concrete(KEY_POLICY[field].shows);
  if (inner instanceof z.ZodArray) return 'list';
  if (inner instanceof z.ZodBoolean) return 'boolean';
  if (inner instanceof z.ZodNumber) return 'number';
  if (inner instanceof z.ZodObject || inner instanceof z.ZodRecord) return 'object';
  return 'string';
}

/** The flags of every policy field: a list repeats its flag, a boolean also has `--no-FLAG`. */
export const POLICY_OPTIONS = Object.fromEntries(
  POLICY_FIELDS.flatMap((field): [string, { type: 'string' | 'boolean'; multiple?: true }][] => {
    const { flag } = KEY_POLICY[field];
    switch (kindOf(field)) {
      case 'list':
        return [[flag, { type: 'string', multiple: true }]];
      case 'boolean':
        return [
          [flag, { type: 'boolean' }],
          [`no-${flag}`, { type: 'boolean' }],
        ];
      default:
        return [[flag, { type: 'string' }]];
    }
  }),
) as NonNullable<ParseArgsConfig['options']>;

/** The usage line of the policy flags, e.g. `[--scope SCOPE]... [--require-signature|--no-require-signature]`. */
export function policyUsage(): string {
  return POLICY_FIELDS.map((field) => {
    const { flag } = KEY_POLICY[field];
    const value = flag.toUpperCase();
    const { nullable } = concrete(KEY_POLICY[field].shows);
    switch (kindOf(field)) {
      case 'list':
        return `[--${flag} ${value}]...`;
      case 'boolean':
        return `[--${flag}|--no-${flag}]`;
      case 'object': {
        const text: z.ZodType | undefined = (KEY_POLICY[field] as { text?: z.ZodType }).text;
        return `[--${flag} ${text?.description ?? 'JSON'}${nullable ? '|none' : ''}]`;
      }
      default:
        return `[--${flag} ${value}${nullable ? '|none' : ''}]`;
    }
  }).join(' ');
}

/**
 * The policy the flags set, in the API's spelling: `none` clears a nullable value or (alone) a
 * list; an object is JSON, or the field's own text form (a rate limit as LIMIT/SECONDS).
 */
export function policyFrom(values: Record<string, unknown>): KeyPatch {
  const patch: Record<string, unknown> = {};
  for (const field of POLICY_FIELDS) {
    const spec: { flag: string; shows: z.ZodType; text?: z.ZodType } = KEY_POLICY[field];
    const { flag } = spec;
    const { nullable } = concrete(spec.shows);
    const given = values[flag];
    switch (kindOf(field)) {
      case 'list':
        if (Array.isArray(given)) patch[field] = given.length === 1 && given[0] === 'none' ? [] : given;
        break;
      case 'boolean': {
        const off = values[`no-${flag}`] === true;
        if (given === true && off) throw new UsageError(`--${flag} and --no-${flag} contradict each other: pick one`);
        if (given === true || off) patch[field] = given === true;
        break;
      }
      default: {
        if (typeof given !== 'string') break;
        if (nullable && given === 'none') patch[field] = null;
        else patch[field] = flagValue(field, spec, given);
      }
    }
  }
  return patch as KeyPatch;
}

function flagValue(field: PolicyField, spec: { flag: string; text?: z.ZodType }, given: string): unknown {
  const kind = kindOf(field);
  if (kind === 'number') {
    if (!/^\d+$/.test(given))
      throw new UsageError(`--${spec.flag} must be a whole number, got ${JSON.stringify(given)}`);
    return Number(given);
  }
  if (kind !== 'object') return given;
  if (spec.text && !given.trim().startsWith('{')) {
    const parsed = spec.text.safeParse(given);
    if (!parsed.success) throw new UsageError(`--${spec.flag} ${parsed.error.issues[0]?.message ?? 'is not valid'}`);
    return parsed.data;
  }
  try {
    const value: unknown = JSON.parse(given);
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value;
  } catch {
    // reported below
  }
  throw new UsageError(`--${spec.flag} must be a JSON object, e.g. {"team":"crm"}`);
}

/** The usage of the listing filters, e.g. `[--name NAME] [--scope SCOPE] [--owner OWNER]`. */
export function policyFilterUsage(): string {
  return POLICY_FIELDS.filter((field) => (KEY_POLICY[field] as { filter?: string }).filter)
    .map((field) => `[--${KEY_POLICY[field].flag} ${KEY_POLICY[field].flag.toUpperCase()}]`)
    .join(' ');
}

/** The key filters of a listing, read from the flags of the policy fields lists filter on. */
export function policyFiltersFrom(values: Record<string, unknown>): Record<string, string | undefined> {
  const filters: Record<string, string | undefined> = {};
  for (const field of POLICY_FIELDS) {
    const spec: { flag: string; filter?: string } = KEY_POLICY[field];
    if (!spec.filter) continue;
    const given = values[spec.flag];
    filters[spec.flag] = Array.isArray(given) ? (given[0] as string | undefined) : (given as string | undefined);
  }
  return filters;
}

/** The key table's columns: who and what the key is, the policy fields marked `listed`, and its use. */
export const KEY_COLUMNS = [
  'id',
  'name',
  'start',
  'status',
  ...POLICY_FIELDS.filter((field) => (KEY_POLICY[field] as { listed?: boolean }).listed),
  'createdAt',
  'rotationDue',
  'lastUsedAt',
  'lastUsedIp',
];
