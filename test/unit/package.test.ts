import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/* What users (and Pulumi's provider host) import: every entry of package.json "exports" must resolve. */
describe('the package exports', () => {
  const root = join(__dirname, '../..');
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    exports: Record<string, string>;
    bin: Record<string, string>;
  };

  it('names only subpaths, each pointing at a built file', () => {
    for (const [subpath, target] of Object.entries(manifest.exports)) {
      expect([subpath, subpath === '.' || subpath.startsWith('./')]).toEqual([subpath, true]);
      expect([subpath, existsSync(join(root, target))]).toEqual([subpath, true]);
    }
  });

  it('ships runnable bins', () => {
    for (const [name, target] of Object.entries(manifest.bin))
      expect([name, existsSync(join(root, target))]).toEqual([name, true]);
  });
});
