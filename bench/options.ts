import { parseArgs } from 'node:util';

/*
 * How every bench reads its command line: node's own parseArgs, so a flag a bench does not know
 * (a misspelt --conections) stops the run with its name instead of leaving a default in place,
 * and a number that does not read as one is refused naming its flag.
 */

/** A bench's flags: `--name value` for a 'value', `--name` alone for a 'switch'. */
type Flags = Record<string, 'value' | 'switch'>;

/** Stops the bench with a one-line reason (no stack trace: the mistake is in the command line). */
function refuse(reason: string): never {
  process.stderr.write(`${reason}\n`);
  process.exit(2);
}

/** Reads the flags of `flags` from the command line; stops the bench naming the first unknown or ill-formed one. */
export function benchOptions<F extends Flags>(flags: F, argv: string[] = process.argv.slice(2)) {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: argv,
      options: Object.fromEntries(
        Object.entries(flags).map(([name, kind]) => [name, { type: kind === 'value' ? 'string' : 'boolean' }]),
      ) as Record<string, { type: 'string' | 'boolean' }>,
      strict: true,
      allowPositionals: false,
    }).values as Record<string, string | boolean | undefined>;
  } catch (error) {
    refuse((error as Error).message);
  }
  const text = (name: keyof F & string): string | undefined => values[name] as string | undefined;
  const toNumber = (name: string, raw: string): number => {
    const value = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(value)) refuse(`--${name}: "${raw}" is not a number`);
    return value;
  };
  return {
    /** The value of `--name`, or undefined when it is not given. */
    text,
    /** The number given with `--name`, or `fallback`. */
    number: (name: keyof F & string, fallback: number): number => {
      const raw = text(name);
      return raw === undefined ? fallback : toNumber(name, raw);
    },
    /** The comma-separated numbers given with `--name`, or `fallback`. */
    numbers: (name: keyof F & string, fallback: number[]): number[] => {
      const raw = text(name);
      return raw === undefined ? fallback : raw.split(',').map((item) => toNumber(name, item));
    },
    /** Whether the switch `--name` is given. */
    has: (name: keyof F & string): boolean => values[name] !== undefined,
  };
}
