import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/* What users (and Pulumi's provider host) import: every entry of every package's "exports" must resolve after a build. */
const ROOT = join(__dirname, '../..');

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  license?: string;
  repository?: { url?: string };
  engines?: { node?: string };
  files?: string[];
  workspaces?: string[];
  exports: Record<string, unknown>;
  bin?: Record<string, string>;
}

const read = (dir: string) => JSON.parse(readFileSync(join(ROOT, dir, 'package.json'), 'utf8')) as Manifest;
const root = read('.');
/** The workspaces, with npm's one-star globs (`packages/*`) expanded. */
const workspaces = (root.workspaces ?? []).flatMap((pattern) =>
  pattern.endsWith('/*')
    ? readdirSync(join(ROOT, pattern.slice(0, -2)))
        .map((name) => `${pattern.slice(0, -2)}/${name}`)
        .filter((dir) => existsSync(join(ROOT, dir, 'package.json')))
    : [pattern],
);
const packages = [{ dir: '.', manifest: root }, ...workspaces.map((dir) => ({ dir, manifest: read(dir) }))];

/** Every file an exports entry names, with the conditions that lead to it. */
function targets(entry: unknown, path: string[] = []): { conditions: string; file: string }[] {
  if (typeof entry === 'string') return [{ conditions: path.join('.') || 'default', file: entry }];
  return Object.entries(entry as Record<string, unknown>).flatMap(([condition, next]) =>
    targets(next, [...path, condition]),
  );
}

describe.each(packages)('the $manifest.name package ($dir)', ({ dir, manifest }) => {
  it('is publishable: a licence, a repository, Node >= 20, files to ship, the shared version', () => {
    expect(manifest.private).toBeUndefined();
    expect(manifest.license).toBe('Apache-2.0');
    expect(manifest.repository?.url).toMatch(/keyward/);
    expect(manifest.engines?.node).toBe('>=20');
    expect(manifest.files?.length).toBeGreaterThan(0);
    expect(manifest.version).toBe(root.version);
    expect(existsSync(join(ROOT, dir, 'README.md'))).toBe(true);
    expect(existsSync(join(ROOT, dir, 'CHANGELOG.md'))).toBe(true);
    expect(readFileSync(join(ROOT, dir, 'CHANGELOG.md'), 'utf8')).toContain(`## ${root.version}`);
  });

  it('names only subpaths, each with types, each condition pointing at a built file', () => {
    for (const [subpath, entry] of Object.entries(manifest.exports)) {
      expect([subpath, subpath === '.' || subpath.startsWith('./')]).toEqual([subpath, true]);
      const found = targets(entry);
      if (subpath !== './package.json')
        expect([subpath, found.some((t) => t.conditions.endsWith('types'))]).toEqual([subpath, true]);
      for (const { conditions, file } of found)
        expect([subpath, conditions, existsSync(join(ROOT, dir, file))]).toEqual([subpath, conditions, true]);
    }
  });

  it('loads each JavaScript entry with require, and with import', () => {
    for (const [subpath, entry] of Object.entries(manifest.exports)) {
      if (subpath === './package.json' || !targets(entry).some((t) => !t.conditions.endsWith('types'))) continue;
      const specifier = subpath === '.' ? manifest.name : `${manifest.name}${subpath.slice(1)}`;
      // In a child Node, from the checkout's root, where npm links the workspaces into node_modules.
      const script = `const a = Object.keys(require(${JSON.stringify(specifier)})).length;
        import(${JSON.stringify(specifier)}).then((m) => console.log(JSON.stringify([a, Object.keys(m).length])));`;
      const [required, imported] = JSON.parse(
        execFileSync(process.execPath, ['-e', script], {
          cwd: ROOT,
          encoding: 'utf8',
          env: { PATH: process.env.PATH },
        }),
      ) as [number, number];
      expect([specifier, required > 0, imported > 0]).toEqual([specifier, true, true]);
    }
  });

  it('ships runnable bins', () => {
    for (const [name, target] of Object.entries(manifest.bin ?? {}))
      expect([name, existsSync(join(ROOT, dir, target))]).toEqual([name, true]);
  });
});
