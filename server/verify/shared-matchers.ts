import { boundedCache } from './bounded-cache';

/*
 * Compiled matchers shared by cached keys with the same list. Most keys of a deployment carry one
 * of a few scope sets and allowlists, and a compiled matcher weighs more than the rest of a cached
 * key (bench/cache-memory); a matcher depends only on its list, so keys with equal lists can hold
 * one. The table remembers the lists compiled last, not every list: where every key has lists of
 * its own, nothing is shared, and the table then costs a bounded amount instead of an entry per key.
 */

/** How many distinct lists the table remembers. */
export const REMEMBERED_LISTS = 10_000;

/** Gives the compiled form of a list, shared with other holders of an equal list compiled lately. */
export class SharedMatchers<Matcher extends object> {
  readonly #compile: (list: readonly string[]) => Matcher;
  readonly #byList = boundedCache<string, Matcher>(REMEMBERED_LISTS);

  constructor(compile: (list: readonly string[]) => Matcher) {
    this.#compile = compile;
  }

  /** The matcher for `list`: the one made for an equal list (same items, same order) if the table holds it, or a new one. */
  of(list: readonly string[]): Matcher {
    const text = JSON.stringify(list);
    let matcher = this.#byList.get(text);
    if (matcher === undefined) {
      matcher = this.#compile(list);
      this.#byList.set(text, matcher);
    }
    return matcher;
  }
}
