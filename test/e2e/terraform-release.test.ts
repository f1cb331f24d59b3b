import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { unzipSync } from 'fflate';
import { terraformPlatform } from '../../provider/terraform/install';
import { Keyward } from '../../sdk';
import { type ServeProcess, serveEnvironment, spawnServe } from '../support/process';
import { type TofuProject, tofuProject } from './fixtures/tofu-project';

const REPO = resolve(__dirname, '../..');
const VERSION = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
const ADDRESS = 'registry.terraform.io/keyward/keyward';

/** OpenTofu's h1: hash of a package: sha256 over "<sha256 hex>  <path>\n" lines of its unpacked files. */
function h1(files: Record<string, Uint8Array>): string {
  const lines = Object.keys(files)
    .sort()
    .map(
      (path) =>
        `${createHash('sha256')
          .update(files[path] as Uint8Array)
          .digest('hex')}  ${path}\n`,
    )
    .join('');
  return `h1:${createHash('sha256').update(lines).digest('base64')}`;
}

/*
 * The provider as released: a single executable (Node SEA) in a provider zip with SHA256SUMS and a
 * manifest, installed into a filesystem mirror's packed layout. OpenTofu installs it with no
 * dev_overrides and no registry, locks its hash, and applies a key; no Node is on tofu's PATH.
 */
describe('terraform-provider-keyward release under OpenTofu, from a filesystem mirror', () => {
  let server: ServeProcess;
  let cleanup: () => Promise<void>;
  let client: Keyward;
  let project: TofuProject;
  let release: string;
  const zipName = `terraform-provider-keyward_${VERSION}_${terraformPlatform()}.zip`;

  beforeAll(async () => {
    release = mkdtempSync(join(tmpdir(), 'keyward-tf-release-'));
    const built = execFileSync(process.execPath, [join(REPO, 'scripts', 'release-terraform-provider.mjs'), release], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    process.stdout.write(`release: ${built}`);
    const environment = await serveEnvironment('keyward-tofu-release-');
    cleanup = environment.cleanup;
    server = await spawnServe([], environment.env);
    const rootKey = readFileSync(join(environment.dataDir, 'root-key'), 'utf8').trim();
    client = new Keyward({ baseUrl: server.url, rootKey });
    // No Node on tofu's PATH: the provider it starts is the single executable, not the launcher.
    project = tofuProject('keyward-tofu-release', {
      KEYWARD_URL: server.url,
      KEYWARD_ROOT_KEY: rootKey,
      PATH: '/nonexistent',
    });
  }, 300_000);
  afterAll(async () => {
    await server?.stop();
    await cleanup?.();
    project?.remove();
    if (release) rmSync(release, { recursive: true, force: true });
  });

  const expectOk = (run: { code: number; out: string; err: string }) => {
    if (run.code !== 0) throw new Error(`tofu failed (${run.code}):\n${run.err}\n${run.out}`);
    return run;
  };

  it('lays out the release: zip, SHA256SUMS and the protocol 6 manifest', () => {
    const sums = readFileSync(join(release, `terraform-provider-keyward_${VERSION}_SHA256SUMS`), 'utf8');
    const zip = readFileSync(join(release, zipName));
    expect(sums).toContain(`${createHash('sha256').update(zip).digest('hex')}  ${zipName}\n`);
    expect(
      JSON.parse(readFileSync(join(release, `terraform-provider-keyward_${VERSION}_manifest.json`), 'utf8')),
    ).toEqual({ version: 1, metadata: { protocol_versions: ['6.0'] } });
    expect(Object.keys(unzipSync(zip))).toEqual([`terraform-provider-keyward_v${VERSION}`]);
  });

  it('installs from the mirror with no dev_overrides, locks a verifying hash, and applies a key', async () => {
    const mirror = join(project.dir, '.mirror');
    const installed = JSON.parse(
      execFileSync(
        process.execPath,
        [join(REPO, 'bin', 'keyward.js'), 'terraform', 'install', '--release', release, '--mirror', mirror, '--json'],
        { encoding: 'utf8' },
      ),
    ) as { path: string; cliConfig: string };
    expect(installed.path).toBe(join(mirror, ADDRESS, zipName));
    // The release replaces the launcher the fixture put in the unpacked layout.
    expect(existsSync(join(mirror, ADDRESS, VERSION, terraformPlatform()))).toBe(false);
    expect(installed.cliConfig).not.toContain('dev_overrides');
    expect(installed.cliConfig).toContain('exclude = ["registry.terraform.io/keyward/*"]');
    writeFileSync(join(project.dir, '.tofurc'), installed.cliConfig);
    writeFileSync(
      join(project.dir, 'main.tf'),
      [
        'terraform {',
        '  required_providers {',
        `    keyward = { source = "${ADDRESS}", version = "${VERSION}" }`,
        '  }',
        '}',
        'provider "keyward" {}',
        'resource "keyward_api_key" "release" {',
        '  name   = "release smoke"',
        '  scopes = ["contacts:read"]',
        '}',
        'output "key" {',
        '  value     = keyward_api_key.release.key',
        '  sensitive = true',
        '}',
        '',
      ].join('\n'),
    );

    const init = expectOk(await project.run(['init', '-input=false']));
    expect(init.out).toContain(`Installed ${ADDRESS} v${VERSION}`);

    // The hash tofu records is the h1: of the zip's contents, and the same from lock as from init.
    const expected = h1(unzipSync(readFileSync(join(release, zipName))));
    const lockFile = join(project.dir, '.terraform.lock.hcl');
    expect(readFileSync(lockFile, 'utf8')).toContain(`"${expected}"`);
    rmSync(lockFile);
    rmSync(join(project.dir, '.terraform'), { recursive: true, force: true });
    expectOk(await project.run(['providers', 'lock', `-fs-mirror=${mirror}`, '-platform=linux_amd64']));
    const lock = readFileSync(lockFile, 'utf8');
    process.stdout.write(`lock file:\n${lock}`);
    expect(lock).toContain(`provider "${ADDRESS}"`);
    expect(lock).toContain(`version     = "${VERSION}"`);
    const hashes = [...lock.matchAll(/"((?:h1|zh):[^"]+)"/g)].map((match) => match[1]);
    expect(hashes).toContain(expected);
    for (const hash of hashes.filter((value) => value?.startsWith('zh:')))
      expect(readFileSync(join(release, `terraform-provider-keyward_${VERSION}_SHA256SUMS`), 'utf8')).toContain(
        (hash as string).slice(3),
      );
    // A fresh init checks the mirror's package against the locked hash.
    expectOk(await project.run(['init', '-input=false']));

    const apply = expectOk(await project.run(['apply', '-auto-approve', '-input=false']));
    expect(apply.out).toContain('Apply complete! Resources: 1 added, 0 changed, 0 destroyed.');
    const key = (await project.run(['output', '-raw', 'key'])).out;
    expect(key).toMatch(/^kw_live_/);
    expect((await client.verify({ key, scopes: ['contacts:read'], ip: '127.0.0.1' })).code).toBe('VALID');
    process.stdout.write(`applied ${key.slice(0, 12)}… and it verifies\n`);
    expectOk(await project.run(['destroy', '-auto-approve', '-input=false']));
  }, 600_000);
});
