import type { $ZodCheck, $ZodType } from 'zod/v4/core';

/*
 * A fast "yes" for a zod schema. compileAcceptor() walks the schema's definition once and builds
 * a predicate that is true only for a value the schema accepts and would return unchanged; false
 * means "not shown here": the caller then runs zod itself, which gives the answer and the error.
 * The walk covers the structure (strict objects, optional fields, arrays, strings); every check
 * on a value (lengths, patterns, refinements) is run by calling zod's own check on it, so the
 * rules stay zod's. Anything else in a schema (defaults, transforms, coercion, unions, other
 * types, checks that rewrite the value) is never accepted here and always goes to zod. An
 * accepted value holds only its schema's own keys, never `__proto__` or `constructor`: the lane
 * relies on that to take a body from plain JSON.parse (./body.ts).
 * Why: on the verify hot path, zod's general machinery (a payload and an issue list per field,
 * dispatch through every schema instance) was a large share of keyward's own work per
 * verification (docs/benchmarks.md). The verify lane (./lane.ts) is its only user.
 *
 * The predicate is generated source, one small function per schema node, compiled once with
 * `new Function`: each field is then read by its own name and each node's function called
 * directly, so V8 inlines the whole walk. Closures composed at run time share one call site per
 * kind of node, which V8 cannot inline, and read fields by a variable key, which is slower.
 * The generated text holds no value from the schema but property names, written as JSON
 * string literals; checks and patterns are passed in as arguments.
 *
 * It reads zod's internals (`_zod.def`, `_zod.check`, `_zod.traits`), which may change in any
 * zod release: package.json pins zod to one minor version, and test/unit/accept.test.ts holds
 * every yes to zod's own answer.
 */

/** True only for a value the schema accepts unchanged; false sends it to zod. */
export type Acceptor = (value: unknown) => boolean;

const NEVER: Acceptor = () => false;

/** The checks that only look at a value; a check of any other kind (an overwrite, a transform) makes the schema not acceptable here. */
const INSPECTING_CHECKS = new Set(['min_length', 'max_length', 'length_equals', 'string_format', 'custom']);

/** One payload, reused: zod's checks read `value` and push to `issues`; nothing here is reentrant. */
const payload: { value: unknown; issues: unknown[] } = { value: undefined, issues: [] };

/** The generated function for a node never accepted here: a value there always goes to zod. */
const REJECT = 'reject';

/** Builds the acceptor for `schema` (see above). */
export function compileAcceptor(schema: $ZodType): Acceptor {
  const program = new Program();
  const root = program.node(schema);
  return root === REJECT ? NEVER : program.link(root);
}

/** The generated functions, and the values (checks, patterns) they refer to as constants. */
class Program {
  readonly #functions: string[] = [];
  readonly #captured: unknown[] = [];

  /** Compiles one schema node; returns its function's name (REJECT when the node is never accepted here). */
  node(schema: $ZodType): string {
    const def = schema._zod.def as unknown as Record<string, unknown> & { type: string; checks?: $ZodCheck[] };
    // A schema that is a check itself (a string format, say) runs its own check first, as zod does.
    const ownCheck = schema._zod.traits.has('$ZodCheck') ? [schema as unknown as $ZodCheck] : [];
    const checks = this.#checks([...ownCheck, ...(def.checks ?? [])]);
    if (checks === null) return REJECT;
    switch (def.type) {
      case 'string':
        if (def.coerce) return REJECT;
        return this.#function(`if (typeof v !== 'string') return false;\n${checks}`);
      case 'optional': {
        // A defaulted inner schema substitutes a value for absence: the output would differ. Checks
        // on the optional itself would run on undefined too; zod is left to do that.
        if ((def.innerType as $ZodType)._zod.optin === 'defaulted' || checks !== '') return REJECT;
        return this.#function(`if (v !== undefined && !${this.node(def.innerType as $ZodType)}(v)) return false;`);
      }
      case 'array': {
        const element = this.node(def.element as $ZodType);
        if (element === REJECT) return REJECT;
        return this.#function(
          `if (!Array.isArray(v)) return false;\nfor (let i = 0; i < v.length; i++) if (!${element}(v[i])) return false;\n${checks}`,
        );
      }
      case 'object': {
        // Only strict objects: one that strips unknown keys returns a different object.
        if ((def.catchall as $ZodType | undefined)?._zod.def.type !== 'never') return REJECT;
        // Nor one with a key secure-json-parse refuses: an accepted body never holds one (see above).
        if (Object.hasOwn(def.shape as object, '__proto__') || Object.hasOwn(def.shape as object, 'constructor'))
          return REJECT;
        // A field never accepted here rejects the object only when the field's value is checked.
        const fields = Object.entries(def.shape as Record<string, $ZodType>).map(
          ([key, field]) => `if (!${this.node(field)}(v[${JSON.stringify(key)}])) return false;`,
        );
        const known = Object.keys(def.shape as object).map((key) => `k !== ${JSON.stringify(key)}`);
        return this.#function(
          [
            // zod answers with a plain object: any other prototype (none, a class) would come back changed.
            `if (typeof v !== 'object' || v === null || Object.getPrototypeOf(v) !== Object.prototype) return false;`,
            `for (const k in v) if (${known.length ? known.join(' && ') : 'true'}) return false;`,
            ...fields,
            checks,
          ].join('\n'),
        );
      }
      default:
        return REJECT;
    }
  }

  /** Makes the predicate from the compiled nodes, `root` being the schema's own. */
  link(root: string): Acceptor {
    const constants = this.#captured.map((_, index) => `const c${index} = captured[${index}];`);
    const source = `'use strict';\n${[...constants, `function ${REJECT}(v) { return false; }`, ...this.#functions].join('\n')}\nreturn ${root};`;
    return new Function('captured', source)(this.#captured) as Acceptor;
  }

  /** Declares a function of `v` with `body`, which returns false for a value it rejects; returns its name. */
  #function(body: string): string {
    const name = `a${this.#functions.length}`;
    this.#functions.push(`function ${name}(v) {\n${body}\nreturn true;\n}`);
    return name;
  }

  /** A value the generated code refers to; returns the constant's name. */
  #capture(value: unknown): string {
    return `c${this.#captured.push(value) - 1}`;
  }

  /** The statements that run `checks` on `v`; null when one of them is of a kind not taken here. */
  #checks(checks: readonly $ZodCheck[]): string | null {
    if (checks.some((check) => !INSPECTING_CHECKS.has((check._zod.def as { check: string }).check))) return null;
    return checks.map((check) => this.#check(check)).join('\n');
  }

  /**
   * One check. The common cases are settled without calling into zod, only where the answer is
   * certain: zod counts a string's length in code points, and a string of n UTF-16 units has
   * between n/2 and n of them, so a length within those bounds passes for sure. Everything else,
   * and every check of another kind, is zod's own check run on the value.
   */
  #check(check: $ZodCheck): string {
    const def = check._zod.def as unknown as {
      check: string;
      maximum?: number;
      minimum?: number;
      format?: string;
      pattern?: RegExp;
    };
    const own = this.#capture(viaZod(check));
    switch (def.check) {
      case 'max_length':
        return `if (!(v.length <= ${Number(def.maximum)}) && !${own}(v)) return false;`;
      case 'min_length':
        return `if (!(v.length >= ${2 * Number(def.minimum)}) && !${own}(v)) return false;`;
      case 'string_format':
        if (def.format === 'regex' && def.pattern) {
          // Exactly what zod's pattern check does.
          const pattern = this.#capture(def.pattern);
          return `${pattern}.lastIndex = 0;\nif (!${pattern}.test(v)) return false;`;
        }
        return `if (!${own}(v)) return false;`;
      default:
        return `if (!${own}(v)) return false;`;
    }
  }
}

/** Zod's own check, run on a value: true when it raised no issue. */
function viaZod(check: $ZodCheck): (value: unknown) => boolean {
  const { when } = check._zod.def;
  const run = check._zod.check as (payload: unknown) => unknown;
  // Setting an array's length is a call into the runtime: the issue list is emptied only when it holds something.
  return (value) => {
    payload.value = value;
    if (payload.issues.length !== 0) payload.issues.length = 0;
    if (when && !when(payload as never)) return true;
    const result = run(payload);
    if (payload.issues.length !== 0) {
      payload.issues.length = 0;
      return false;
    }
    // An async refinement is zod's to run.
    return !(result instanceof Promise);
  };
}
