import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pulumiProject } from '../test/e2e/fixtures/pulumi-project';

/*
 * bench/pulumi: wall time of `pulumi up` (creating N keys), `preview` right after (no changes) and
 * `destroy`, for N = 1, 10, 100 ApiKeys under the real engine, against the same N no-op dynamic
 * resources in the same run. Needs KEYWARD_ENGINES_BIN (or PULUMI_BIN) and a build.
 *   node dist/bench/pulumi.js [--counts 1,10,100]
 */
const countsArg = process.argv.indexOf('--counts');
const counts = (countsArg > 0 ? process.argv[countsArg + 1]! : '1,10,100').split(',').map(Number);
const root = join(__dirname, '..', '..');

function serve(dataDir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [join(root, 'bin', 'keyward.js'), 'serve', '--port', '0'], {
    env: { PATH: process.env.PATH, KEYWARD_DATA_DIR: dataDir, KEYWARD_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk) => {
      out += String(chunk);
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match?.[1] && (!out.includes('First start') || out.includes('(mode 0600)')))
        resolve({ child, url: match[1] });
    });
    child.once('exit', (code) => reject(new Error(`keyward serve exited with ${code}: ${out}`)));
  });
}

async function timeStack(kind: 'apikey' | 'noop', count: number, env: NodeJS.ProcessEnv) {
  const project = pulumiProject(`bench-${kind}-${count}`, { ...env, BENCH_KIND: kind, BENCH_KEYS: String(count) });
  try {
    const up = await project.run('bench/pulumi-program.js', 'up');
    if (up.summary.create !== count + 1)
      throw new Error(`up created ${JSON.stringify(up.summary)}, expected ${count} resources and the stack`);
    const preview = await project.run('bench/pulumi-program.js', 'preview');
    if (preview.summary.same !== count + 1)
      throw new Error(`preview after up was not empty: ${JSON.stringify(preview.summary)}`);
    const destroy = await project.run('bench/pulumi-program.js', 'destroy');
    return { up: up.milliseconds, preview: preview.milliseconds, destroy: destroy.milliseconds };
  } finally {
    project.remove();
  }
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'keyward-bench-pulumi-'));
  const server = await serve(dataDir);
  const rootKey = readFileSync(join(dataDir, 'root-key'), 'utf8').trim();
  const env = { KEYWARD_URL: server.url, KEYWARD_ROOT_KEY: rootKey };
  const seconds = (ms: number) => (ms / 1000).toFixed(1);
  console.log(
    '| keys | up (s) | no-op up (s) | ratio | preview (s) | no-op preview (s) | ratio | destroy (s) | no-op destroy (s) |',
  );
  console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  try {
    for (const count of counts) {
      const baseline = await timeStack('noop', count, {});
      const keys = await timeStack('apikey', count, env);
      console.log(
        `| ${count} | ${seconds(keys.up)} | ${seconds(baseline.up)} | ${(keys.up / baseline.up).toFixed(2)} | ${seconds(keys.preview)} | ${seconds(baseline.preview)} | ${(keys.preview / baseline.preview).toFixed(2)} | ${seconds(keys.destroy)} | ${seconds(baseline.destroy)} |`,
      );
    }
  } finally {
    server.child.kill();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
