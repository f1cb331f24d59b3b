import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localhostCertificate } from '../provider/terraform/plugin';
import { tofuProject } from '../test/e2e/fixtures/tofu-project';

/*
 * bench/terraform: wall time of `tofu plan` and `tofu apply` for N = 1, 10, 100 keyward_api_key
 * resources (and of a plan right after, with nothing to do), against the same N terraform_data
 * resources (built into the engine, no provider process) in the same run; and the provider's
 * start-up time, from spawn to the handshake line. Needs KEYWARD_ENGINES_BIN (or TOFU_BIN) and a build.
 *   node dist/bench/terraform.js [--counts 1,10,100]
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

/** Milliseconds from spawning the provider to its handshake line, median of `runs`. */
async function providerStartup(runs: number): Promise<number> {
  const hostCertificate = (await localhostCertificate()).certPem;
  const times: number[] = [];
  for (let run = 0; run < runs; run += 1) {
    const started = performance.now();
    const child = spawn(process.execPath, [join(root, 'bin', 'terraform-provider-keyward.js')], {
      env: {
        PATH: process.env.PATH,
        TF_PLUGIN_MAGIC_COOKIE: 'd602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2',
        PLUGIN_PROTOCOL_VERSIONS: '5,6',
        PLUGIN_CLIENT_CERT: hostCertificate,
      },
    });
    await new Promise((done) => child.stdout.once('data', done));
    times.push(performance.now() - started);
    child.kill();
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
}

function configuration(kind: 'keyward' | 'terraform_data', count: number): string {
  const header =
    kind === 'keyward'
      ? 'terraform {\n  required_providers {\n    keyward = { source = "registry.terraform.io/keyward/keyward" }\n  }\n}\n'
      : '';
  const resource =
    kind === 'keyward'
      ? `resource "keyward_api_key" "bench" {\n  count        = ${count}\n  name         = "bench \${count.index}"\n  scopes       = ["contacts:read"]\n  ip_allowlist = ["10.0.0.0/8"]\n  grace_period = "0s"\n  lifecycle { create_before_destroy = true }\n}\n`
      : `resource "terraform_data" "bench" {\n  count = ${count}\n  input = "bench \${count.index}"\n}\n`;
  return header + resource;
}

async function timeConfiguration(kind: 'keyward' | 'terraform_data', count: number, env: NodeJS.ProcessEnv) {
  const project = tofuProject(`bench-${kind}-${count}`, env);
  try {
    writeFileSync(join(project.dir, 'main.tf'), configuration(kind, count));
    const must = async (args: string[]) => {
      const run = await project.run(args);
      if (run.code !== 0) throw new Error(`tofu ${args[0]} failed:\n${run.err}`);
      return run.milliseconds;
    };
    await must(['init', '-input=false']);
    const plan = await must(['plan', '-input=false', '-out=plan.bin']);
    const apply = await must(['apply', '-input=false', 'plan.bin']);
    const replan = await project.run(['plan', '-input=false', '-detailed-exitcode']);
    if (replan.code !== 0) throw new Error(`the plan after apply was not empty:\n${replan.out}`);
    return { plan, apply, replan: replan.milliseconds };
  } finally {
    project.remove();
  }
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'keyward-bench-tofu-'));
  const server = await serve(dataDir);
  const rootKey = readFileSync(join(dataDir, 'root-key'), 'utf8').trim();
  const env = { KEYWARD_URL: server.url, KEYWARD_ROOT_KEY: rootKey };
  const seconds = (ms: number) => (ms / 1000).toFixed(1);
  try {
    console.log(`provider start-up (spawn to handshake, median of 9): ${Math.round(await providerStartup(9))} ms\n`);
    console.log(
      '| keys | plan (s) | terraform_data plan (s) | ratio | apply (s) | terraform_data apply (s) | ratio | plan after apply (s) | terraform_data (s) |',
    );
    console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const count of counts) {
      const baseline = await timeConfiguration('terraform_data', count, {});
      const keys = await timeConfiguration('keyward', count, env);
      console.log(
        `| ${count} | ${seconds(keys.plan)} | ${seconds(baseline.plan)} | ${(keys.plan / baseline.plan).toFixed(2)} | ${seconds(keys.apply)} | ${seconds(baseline.apply)} | ${(keys.apply / baseline.apply).toFixed(2)} | ${seconds(keys.replan)} | ${seconds(baseline.replan)} |`,
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
