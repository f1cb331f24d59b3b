import type { $ZodCheck, $ZodType } from 'zod/v4/core';

/*
 * A fast "yes" for a zod schema. compileAcceptor() walks the schema's definition once and builds
 * a predicate that is true only for a value the schema accepts and would return unchanged; false
 * means "not shown here": the caller then runs zod itself, which gives the answer and the error.
 * The walk covers the structure (strict objects, optional fields, arrays, strings); every check
 * on a value (lengths, patterns, refinements) is run by calling zod's own check on it, so the
 * rules stay zod's. Anything else in a schema (defaults, transforms, coercion, unions, other
 * types, checks that rewrite the value) is never accepted here and always goes to zod.
 * Why: on the verify hot path, zod's general machinery (a payload and an issue list per field,
 * dispatch through every schema instance) cost a third of keyward's own work per verification.
 */

/** True only for a value the schema accepts unchanged; false sends it to zod. */
export type Acceptor = (value: unknown) => boolean;

const NEVER: Acceptor = () => false;

/** The checks that only look at a value; a check of any other kind (an overwrite, a transform) makes the schema not acceptable here. */
const INSPECTING_CHECKS = new Set(['min_length', 'max_length', 'length_equals', 'string_format', 'custom']);

/** One payload, reused: zod's checks read `value` and push to `issues`; nothing here is reentrant. */
const payload: { value: unknown; issues: unknown[] } = { value: undefined, issues: [] };

/** Builds the acceptor for `schema` (see above). */
export function compileAcceptor(schema: $ZodType): Acceptor {
  return compile(schema);
}

function compile(schema: $ZodType): Acceptor {
  const def = schema._zod.def as unknown as Record<string, unknown> & { type: string; checks?: $ZodCheck[] };
  // A schema that is a check itself (a string format, say) runs its own check first, as zod does.
  const ownCheck = schema._zod.traits.has('$ZodCheck') ? [schema as unknown as $ZodCheck] : [];
  const checks = compileChecks([...ownCheck, ...(def.checks ?? [])]);
  if (!checks) return NEVER;
  switch (def.type) {
    case 'string':
      if (def.coerce) return NEVER;
      return (value) => typeof value === 'string' && checks(value);
    case 'optional': {
      const inner = (def.innerType as $ZodType)._zod;
      // A defaulted inner schema substitutes a value for absence: the output would differ.
      if (inner.optin === 'defaulted') return NEVER;
      const accepts = compile(def.innerType as $ZodType);
      return (value) => value === undefined || accepts(value);
    }
    case 'array': {
      const element = compile(def.element as $ZodType);
      return (value) => {
        if (!Array.isArray(value)) return false;
        for (const item of value) if (!element(item)) return false;
        return checks(value);
      };
    }
    case 'object': {
      // Only strict objects: one that strips unknown keys returns a different object.
      if ((def.catchall as $ZodType | undefined)?._zod.def.type !== 'never') return NEVER;
      const fields = Object.entries(def.shape as Record<string, $ZodType>).map(([key, field]) => [key, compile(field)] as const);
      const known = new Set(fields.map(([key]) => key));
      return (value) => {
        if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
        for (const key in value) if (!known.has(key)) return false;
        for (const [key, accepts] of fields) if (!accepts((value as Record<string, unknown>)[key])) return false;
        return checks(value);
      };
    }
    default:
      return NEVER;
  }
}

/** Runs the checks on a value; null when one of them is of a kind not taken here. */
function compileChecks(checks: readonly $ZodCheck[]): ((value: unknown) => boolean) | null {
  if (checks.some((check) => !INSPECTING_CHECKS.has((check._zod.def as { check: string }).check))) return null;
  const steps = checks.map(step);
  if (steps.length === 0) return () => true;
  if (steps.length === 1) return steps[0]!;
  return (value) => {
    for (let index = 0; index < steps.length; index += 1) if (!steps[index]!(value)) return false;
    return true;
  };
}

/**
 * One check. The common cases are settled without calling into zod, only where the answer is
 * certain: zod counts a string's length in code points, and a string of n UTF-16 units has
 * between n/2 and n of them, so a length within those bounds passes for sure. Everything else,
 * and every check of another kind, is zod's own check run on the value.
 */
function step(check: $ZodCheck): (value: unknown) => boolean {
  const def = check._zod.def as unknown as { check: string; maximum?: number; minimum?: number; format?: string; pattern?: RegExp };
  const own = viaZod(check);
  switch (def.check) {
    case 'max_length': {
      const maximum = def.maximum!;
      return (value) => (value as { length: number }).length <= maximum || own(value);
    }
    case 'min_length': {
      const minimum = def.minimum!;
      return (value) => (value as { length: number }).length >= 2 * minimum || own(value);
    }
    case 'string_format':
      if (def.format === 'regex' && def.pattern) {
        // Exactly what zod's pattern check does.
        const pattern = def.pattern;
        return (value) => {
          pattern.lastIndex = 0;
          return pattern.test(value as string);
        };
      }
      return own;
    default:
      return own;
  }
}

/** Zod's own check, run on a value: true when it raised no issue. */
function viaZod(check: $ZodCheck): (value: unknown) => boolean {
  const { when } = check._zod.def;
  const run = check._zod.check as (payload: unknown) => unknown;
  return (value) => {
    payload.value = value;
    payload.issues.length = 0;
    if (when && !when(payload as never)) return true;
    const result = run(payload);
    // An async refinement is zod's to run.
    const passed = !(result instanceof Promise) && payload.issues.length === 0;
    payload.issues.length = 0;
    return passed;
  };
}
