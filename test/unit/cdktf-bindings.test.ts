import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { generateBindings } from '../../provider/cdktf/generate';

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) =>
    statSync(join(dir, name)).isDirectory() ? filesUnder(join(dir, name)) : [join(dir, name)],
  );
}

/* provider/cdktf/generated is what @cdktf/provider-generator makes of the committed provider schema. */
describe('the CDKTF bindings', () => {
  it('match a fresh generation from provider/terraform/schema.json (regenerate: npm run build && node dist/provider/cdktf/generate.js)', async () => {
    const root = join(__dirname, '../..');
    const target = mkdtempSync(join(tmpdir(), 'keyward-cdktf-'));
    try {
      await generateBindings(join(root, 'provider', 'terraform', 'schema.json'), target);
      const fresh = join(target, 'providers', 'keyward');
      const committed = join(root, 'provider', 'cdktf', 'generated');
      const contents = (dir: string) =>
        Object.fromEntries(filesUnder(dir).map((file) => [relative(dir, file), readFileSync(file, 'utf8')]));
      expect(contents(committed)).toEqual(contents(fresh));
    } finally {
      rmSync(target, { recursive: true, force: true });
    }
  }, 30_000);
});
