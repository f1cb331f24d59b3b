import { z } from 'zod';
import { camelCase, KEY_POLICY, POLICY_DEFAULTS, POLICY_FIELDS, type PolicyField, snakeCase } from '../../schema';
import { type CtyObject, type CtyValue, containsUnknown, DynamicValue, inferType, toJson } from './cty';

/*
 * The key policy in Terraform's spelling, derived from schema/keys.ts: each policy field is the
 * attribute of its snake_case name; an object field's keys are snake_case too, and free-form JSON
 * (metadata) is a dynamic value. Nothing here names a field.
 */

/** How a policy field's value travels to and from Terraform. */
type Carriage = 'dynamic' | 'object' | 'plain';

function carriageOf(field: PolicyField): Carriage {
  const shows: z.ZodType = KEY_POLICY[field].shows;
  const inner = shows instanceof z.ZodNullable ? shows.unwrap() : shows;
  if (inner instanceof z.ZodRecord) return 'dynamic';
  if (inner instanceof z.ZodObject) return 'object';
  return 'plain';
}

const CARRIAGE = new Map(POLICY_FIELDS.map((field) => [snakeCase(field) as string, carriageOf(field)]));

/** The policy's attribute names, in Terraform spelling. */
export const POLICY_ATTRIBUTES: readonly string[] = POLICY_FIELDS.map((field) => snakeCase(field));

/** A policy value as the API takes it, from the attribute's Terraform value. */
export function apiValueOf(attribute: string, value: CtyValue): unknown {
  const json = toJson(value);
  if (CARRIAGE.get(attribute) !== 'object' || json === null || typeof json !== 'object') return json;
  return Object.fromEntries(Object.entries(json).map(([name, item]) => [camelCase(name), item]));
}

/** A policy value as Terraform holds it, from the API's value of the field. */
export function terraformValueOf(field: string, value: unknown): CtyValue {
  const carriage = CARRIAGE.get(snakeCase(field));
  if (value === null || value === undefined) return null;
  if (carriage === 'dynamic') return new DynamicValue(inferType(value as CtyValue), value as CtyValue);
  if (carriage === 'object') {
    return Object.fromEntries(
      Object.entries(value as object).map(([name, item]) => [snakeCase(name), item as CtyValue]),
    );
  }
  return value as CtyValue;
}

/** The API body for the given attributes of a (possibly partly unknown) config; unknown and null ones are left out. */
export function apiPolicyOf(
  config: CtyObject,
  attributes: readonly string[] = [...POLICY_ATTRIBUTES, 'environment'],
): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const attribute of attributes) {
    const value = config[attribute];
    if (value === undefined || value === null || containsUnknown(value)) continue;
    body[camelCase(attribute)] = apiValueOf(attribute, value);
  }
  return body;
}

/** What the server stores for an argument left out (those attributes are optional+computed). */
export const SERVER_DEFAULTS: CtyObject = {
  ...Object.fromEntries(
    Object.entries(POLICY_DEFAULTS)
      .filter(([, value]) => value !== null)
      .map(([field, value]) => [snakeCase(field), terraformValueOf(field, value)]),
  ),
  environment: 'live',
  grace_period: '24h',
};

/** The API value a removed argument returns to: the policy's default (an empty list, `{}`, false…). */
export function defaultOf(field: string): unknown {
  return (POLICY_DEFAULTS as Record<string, unknown>)[field] ?? null;
}

/**
 * The policy attributes for a key as the server returns it. Where the server's value means the
 * same as what Terraform holds (an instant in another spelling, metadata of the same JSON),
 * Terraform's own spelling is kept, so nothing shows as drift.
 */
export function policyStateOf(key: Record<string, unknown>, held: CtyObject): CtyObject {
  const state: CtyObject = {};
  for (const field of POLICY_FIELDS) {
    const attribute = snakeCase(field);
    const value = key[field];
    const kept = held[attribute];
    const same =
      kept !== undefined &&
      kept !== null &&
      (JSON.stringify(apiValueOf(attribute, kept)) === JSON.stringify(value) ||
        (typeof kept === 'string' && typeof value === 'string' && sameInstant(kept, value)));
    state[attribute] = same ? kept : terraformValueOf(field, value);
  }
  return state;
}

function sameInstant(a: string, b: string): boolean {
  const [left, right] = [Date.parse(a), Date.parse(b)];
  return !Number.isNaN(left) && left === right && /^\d{4}-\d\d-\d\dT/.test(a) && /^\d{4}-\d\d-\d\dT/.test(b);
}
