import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Keyward } from '../../sdk';
import { type ServeProcess, serveEnvironment, spawnServe } from '../support/process';
import { pulumiProject } from './fixtures/pulumi-project';
import { tofuBinary } from './fixtures/tofu-project';

const REPO = resolve(__dirname, '../..');
const SDK_BUDGET_BYTES = 5_000_000;
const NPM_ENV = { ...process.env, npm_config_update_notifier: 'false' };

/** What `npm pack --json` reports for one tarball. */
interface Packed {
  name: string;
  filename: string;
  size: number;
  unpackedSize: number;
  entryCount: number;
}

/**
 * A node_modules dir's size: the bytes in its files (what the 5 MB budget counts, as npm's
 * "unpacked size" does), what `du -sk` says it takes on disk (4 KiB blocks here), and how many
 * packages npm put there (from its lockfile).
 */
function footprint(dir: string): { bytes: number; diskKiB: number; packages: number } {
  let bytes = 0;
  const walk = (path: string) => {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const child = join(path, entry.name);
      if (entry.isDirectory()) walk(child);
      else bytes += lstatSync(child).size;
    }
  };
  walk(dir);
  const diskKiB = Number(execFileSync('du', ['-sk', dir], { encoding: 'utf8' }).split('\t')[0]);
  const lock = JSON.parse(readFileSync(join(dir, '.package-lock.json'), 'utf8')) as { packages: object };
  return { bytes, diskKiB, packages: Object.keys(lock.packages).length };
}

/**
 * The published artefacts, as users get them: every package packed to a tarball, each installed
 * into a fresh project from its tarball (never from the checkout), then used the way its README says.
 * Figures go to the log and to docs/benchmarks.md ("Packages (issue #22)").
 */
describe('the packages, installed from their tarballs', () => {
  const work = mkdtempSync(join(tmpdir(), 'keyward-packages-'));
  const tarballs: Record<string, Packed> = {};
  const tarball = (name: string) => join(work, tarballs[name]!.filename);
  const figures: string[] = [];
  let server: ServeProcess;
  let cleanup: () => Promise<void>;
  let rootKey: string;
  let serverProject: string;

  /** A fresh project dir with this package.json, and `npm install` of these specs in it. */
  const project = (name: string, manifest: object, specs: string[]) => {
    const dir = join(work, name);
    mkdirSync(dir);
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, private: true, ...manifest }, null, 2));
    const started = Date.now();
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', ...specs], {
      cwd: dir,
      stdio: 'pipe',
      env: NPM_ENV,
    });
    const size = footprint(join(dir, 'node_modules'));
    figures.push(
      `${name}: node_modules ${(size.bytes / 1e6).toFixed(2)} MB in files (${(size.diskKiB / 1024).toFixed(2)} MiB on disk, du -sk), ${size.packages} packages, installed in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    return { dir, size };
  };
  const node = (dir: string, args: string[], env: NodeJS.ProcessEnv = {}) =>
    execFileSync(process.execPath, args, { cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH, ...env } });

  beforeAll(async () => {
    // The checkout's build (npm test, or npm run build) made dist/; packing must not rebuild it under other suites.
    for (const args of [['pack'], ['pack', '--workspaces']]) {
      const packed = JSON.parse(
        execFileSync('npm', [...args, '--json', '--ignore-scripts', '--pack-destination', work], {
          cwd: REPO,
          encoding: 'utf8',
          env: NPM_ENV,
        }),
      ) as Packed[];
      for (const entry of packed) {
        tarballs[entry.name] = entry;
        figures.push(
          `${entry.filename}: ${(entry.size / 1e3).toFixed(1)} kB packed, ${(entry.unpackedSize / 1e6).toFixed(2)} MB unpacked, ${entry.entryCount} files`,
        );
      }
    }
    serverProject = project('server', {}, [tarball('keyward')]).dir;
    const environment = await serveEnvironment('keyward-packages-serve-');
    cleanup = environment.cleanup;
    server = await spawnServe([], environment.env, 60_000, { command: 'npx', args: ['keyward'], cwd: serverProject });
    rootKey = readFileSync(join(environment.dataDir, 'root-key'), 'utf8').trim();
  }, 600_000);

  afterAll(async () => {
    await server?.stop();
    await cleanup?.();
    process.stdout.write(`\n${figures.join('\n')}\n`);
    rmSync(work, { recursive: true, force: true });
  });

  it('packs four packages, each with compiled code and no TypeScript sources', () => {
    expect(Object.keys(tarballs).sort()).toEqual(['@keyward/cdktf', '@keyward/pulumi', '@keyward/sdk', 'keyward']);
    for (const name of Object.keys(tarballs)) {
      const files = execFileSync('tar', ['tzf', tarball(name)], { encoding: 'utf8' }).split('\n');
      expect([name, files.filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))]).toEqual([name, []]);
      expect([name, files.some((file) => file.endsWith('.js') || file.endsWith('.cjs'))]).toEqual([name, true]);
    }
  });

  it('`npx keyward serve` from the installed keyward runs, and its CLI creates a key that verifies', () => {
    const env = { KEYWARD_URL: server.url, KEYWARD_ROOT_KEY: rootKey, HOME: serverProject };
    const npx = (...args: string[]) =>
      execFileSync('npx', ['keyward', ...args], {
        cwd: serverProject,
        encoding: 'utf8',
        env: { ...process.env, ...env },
      });
    const created = JSON.parse(
      npx('keys', 'create', '--name', 'from the tarball', '--scope', 'contacts:read', '--json'),
    ) as {
      key: string;
    };
    expect(npx('verify', created.key, '--scope', 'contacts:read', '--json')).toContain('"VALID"');
  });

  const check = `
    const kw = new Keyward({ baseUrl: process.env.KEYWARD_URL, rootKey: process.env.KEYWARD_ROOT_KEY });
    const created = await kw.keys.create({ name: 'sdk ' + process.env.FLAVOUR, scopes: ['contacts:read'] });
    const verdict = await kw.verify({ key: created.key, scopes: ['contacts:read'] });
    const refused = await kw.verify({ key: created.key, scopes: ['users:manage'] });
    const parsed = CreateKeyBodySchema.safeParse({ name: 'x', scopes: ['Not A Scope'] });
    console.log(JSON.stringify({ valid: verdict.code, refused: refused.code, schemaRejects: !parsed.success,
      express: typeof keywardExpress, fastify: typeof keywardFastify }));`;
  const expected = {
    valid: 'VALID',
    refused: 'INSUFFICIENT_SCOPE',
    schemaRejects: true,
    express: 'function',
    fastify: 'function',
  };
  /*
   * Checked with the checkout's tsc, strict and without skipLibCheck: the types are complete with no
   * zod installed. (The middleware's types name express's and fastify's, which come with those.)
   */
  const typed = `
    import type { z } from '@keyward/sdk/zod';
    const kw = new Keyward({ baseUrl: 'http://127.0.0.1:7070', rootKey: 'kw_root_x' });
    export async function run(): Promise<string> {
      const verdict: VerifyResponse = await kw.verify({ key: 'kw_live_x', scopes: ['a:read'] });
      const body: z.input<typeof CreateKeyBodySchema> = { name: 'crm', scopes: ['contacts:read'] };
      const family: 'ipv4' | 'ipv6' | undefined = parseAddress('203.0.113.7').address?.kind(); // ipaddr.js's types
      // @ts-expect-error: scopes are strings; this proves the schema types are not any
      const wrong: z.input<typeof CreateKeyBodySchema> = { name: 'crm', scopes: [1] };
      // @ts-expect-error: verify answers carry no such field
      verdict.nonexistent;
      return [verdict.code, body.name, wrong, family].join();
    }`;
  const tsc = (dir: string, file: string, module: string) => {
    try {
      return execFileSync(
        process.execPath,
        [
          join(REPO, 'node_modules/typescript/bin/tsc'),
          '--noEmit',
          '--strict',
          '--module',
          module,
          '--moduleResolution',
          module,
          '--target',
          'es2022',
          '--typeRoots',
          join(REPO, 'node_modules/@types'),
          '--types',
          'node',
          file,
        ],
        { cwd: dir, encoding: 'utf8' },
      );
    } catch (error) {
      return String((error as { stdout?: string }).stdout ?? error);
    }
  };

  it('@keyward/sdk from a CommonJS project: require, types, and a key created and verified', () => {
    const { dir } = project('sdk-cjs', { type: 'commonjs' }, [tarball('@keyward/sdk')]);
    writeFileSync(
      join(dir, 'check.js'),
      `const { Keyward } = require('@keyward/sdk');
       const { CreateKeyBodySchema } = require('@keyward/sdk/schema');
       const { keywardExpress } = require('@keyward/sdk/express');
       const { keywardFastify } = require('@keyward/sdk/fastify');
       (async () => { ${check} })().catch((error) => { console.error(error); process.exit(1); });`,
    );
    const answer = node(dir, ['check.js'], { KEYWARD_URL: server.url, KEYWARD_ROOT_KEY: rootKey, FLAVOUR: 'cjs' });
    expect(JSON.parse(answer)).toEqual(expected);
    writeFileSync(
      join(dir, 'typed.ts'),
      `import { Keyward, type VerifyResponse } from '@keyward/sdk';
       import { CreateKeyBodySchema, parseAddress } from '@keyward/sdk/schema';
       ${typed}`,
    );
    expect(tsc(dir, 'typed.ts', 'node16')).toBe('');
  });

  it('@keyward/sdk from an ES module project: import, types, and a key created and verified', () => {
    const { dir } = project('sdk-esm', { type: 'module' }, [tarball('@keyward/sdk')]);
    writeFileSync(
      join(dir, 'check.js'),
      `import { Keyward } from '@keyward/sdk';
       import { CreateKeyBodySchema } from '@keyward/sdk/schema';
       import { keywardExpress } from '@keyward/sdk/express';
       import { keywardFastify } from '@keyward/sdk/fastify';
       ${check}`,
    );
    const answer = node(dir, ['check.js'], { KEYWARD_URL: server.url, KEYWARD_ROOT_KEY: rootKey, FLAVOUR: 'esm' });
    expect(JSON.parse(answer)).toEqual(expected);
    writeFileSync(
      join(dir, 'typed.ts'),
      `import { Keyward, type VerifyResponse } from '@keyward/sdk';
       import { CreateKeyBodySchema, parseAddress } from '@keyward/sdk/schema';
       ${typed}`,
    );
    expect(tsc(dir, 'typed.ts', 'nodenext')).toBe('');
  });

  it('@keyward/sdk alone installs within its 5 MB budget, axios its only dependency', () => {
    const dir = join(work, 'sdk-cjs');
    const size = footprint(join(dir, 'node_modules'));
    const top = readdirSync(join(dir, 'node_modules', '@keyward'));
    expect(top).toEqual(['sdk']);
    const manifest = JSON.parse(readFileSync(join(dir, 'node_modules/@keyward/sdk/package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    expect(Object.keys(manifest.dependencies)).toEqual(['axios']);
    expect(readdirSync(join(dir, 'node_modules'))).not.toContain('zod');
    expect(size.bytes).toBeLessThanOrEqual(SDK_BUDGET_BYTES);
  });

  it('examples/pulumi under the real Pulumi engine, with @keyward/pulumi from its tarball', async () => {
    const { dir } = project('pulumi', {}, [
      tarball('@keyward/sdk'),
      tarball('@keyward/pulumi'),
      `@pulumi/pulumi@${installedVersion('@pulumi/pulumi')}`,
    ]);
    expect(readdirSync(join(dir, 'node_modules'))).not.toContain('keyward'); // never the server
    // The example as compiled from examples/pulumi/index.ts: it imports '@keyward/pulumi', as a user's program does.
    copyFileSync(join(REPO, 'dist/examples/pulumi/index.js'), join(dir, 'index.js'));
    const stack = pulumiProject('keyward-packaged-pulumi', { KEYWARD_URL: server.url, KEYWARD_ROOT_KEY: rootKey }, dir);
    const up = await stack.run(join(dir, 'index.js'), 'up');
    expect(up.summary).toEqual({ create: 7 });
    const crm = JSON.parse(readFileSync(join(dir, 'secrets', 'crm-sync.json'), 'utf8')) as { apiKey: string };
    const client = new Keyward({ baseUrl: server.url, rootKey });
    expect((await client.verify({ key: crm.apiKey, scopes: ['contacts:read'], ip: '203.0.113.20' })).code).toBe(
      'VALID',
    );
    expect((await stack.run(join(dir, 'index.js'), 'preview')).summary).toEqual({ same: 7 });
    expect((await stack.run(join(dir, 'index.js'), 'destroy')).summary).toEqual({ delete: 7 });
    figures.push(`pulumi: up ${up.milliseconds} ms for examples/pulumi (7 resources)`);
  }, 900_000);

  /** Synthesizes examples/cdktf (compiled; it imports '@keyward/cdktf') in a project and returns the stack's JSON. */
  const synthesize = (dir: string) => {
    copyFileSync(join(REPO, 'dist/examples/cdktf/main.js'), join(dir, 'main.js'));
    node(dir, ['main.js'], { CDKTF_OUTDIR: join(dir, 'cdktf.out'), KEY_FILE: join(dir, 'secrets', 'crm.key') });
    return JSON.parse(readFileSync(join(dir, 'cdktf.out/stacks/keys/cdk.tf.json'), 'utf8')) as {
      resource: { keyward_api_key: Record<string, { lifecycle?: { create_before_destroy?: boolean } }> };
      terraform: { required_providers: Record<string, { source: string }> };
    };
  };
  const rotatingKey = {
    resource: { keyward_api_key: { crm: expect.objectContaining({ lifecycle: { create_before_destroy: true } }) } },
    terraform: {
      required_providers: { keyward: expect.objectContaining({ source: 'registry.terraform.io/keyward/keyward' }) },
    },
  };

  it('examples/cdktf synthesized with cdktf from @keyward/cdktf, and applied with the provider from the keyward tarball', async () => {
    const { dir } = project('cdktf', {}, [
      tarball('@keyward/cdktf'),
      `cdktf@${installedVersion('cdktf')}`,
      `constructs@${installedVersion('constructs')}`,
    ]);
    expect(synthesize(dir)).toMatchObject(rotatingKey);
    // The provider as a user installs it: `keyward terraform install` from the installed keyward package.
    const install = JSON.parse(
      execFileSync('npx', ['keyward', 'terraform', 'install', '--mirror', join(dir, '.mirror'), '--json'], {
        cwd: serverProject,
        encoding: 'utf8',
      }),
    ) as { cliConfig: string };
    writeFileSync(join(dir, '.tofurc'), install.cliConfig);
    const tofu = (...args: string[]) =>
      execFileSync(tofuBinary(), ['-chdir=cdktf.out/stacks/keys', ...args, '-no-color'], {
        cwd: dir,
        encoding: 'utf8',
        env: {
          PATH: process.env.PATH,
          HOME: dir,
          TF_CLI_CONFIG_FILE: join(dir, '.tofurc'),
          TF_IN_AUTOMATION: '1',
          KEYWARD_URL: server.url,
          KEYWARD_ROOT_KEY: rootKey,
        },
      });
    tofu('init', '-input=false');
    expect(tofu('apply', '-auto-approve', '-input=false')).toContain('Apply complete! Resources: 2 added');
    const key = readFileSync(join(dir, 'secrets', 'crm.key'), 'utf8');
    const client = new Keyward({ baseUrl: server.url, rootKey });
    expect((await client.verify({ key, scopes: ['contacts:read'], ip: '127.0.0.1' })).code).toBe('VALID');
    expect(tofu('destroy', '-auto-approve', '-input=false')).toContain('Destroy complete! Resources: 2 destroyed.');
  }, 900_000);

  it('examples/cdktf synthesized with cdktn (CDK Terrain) through the cdktf alias, from @keyward/cdktf', () => {
    const { dir } = project('cdktn', { dependencies: { cdktf: 'npm:cdktn@^0.24', constructs: '>=10.6 <10.8' } }, [
      tarball('@keyward/cdktf'),
    ]);
    const installed = JSON.parse(readFileSync(join(dir, 'node_modules/cdktf/package.json'), 'utf8')) as {
      name: string;
      version: string;
    };
    expect(installed.name).toBe('cdktn');
    figures.push(`cdktn: synthesized with ${installed.name}@${installed.version}`);
    expect(synthesize(dir)).toMatchObject(rotatingKey);
  }, 600_000);
});

/** The version of a package in the checkout's node_modules, so a project installs what the checkout tests with. */
function installedVersion(name: string): string {
  return (JSON.parse(readFileSync(join(REPO, 'node_modules', name, 'package.json'), 'utf8')) as { version: string })
    .version;
}
