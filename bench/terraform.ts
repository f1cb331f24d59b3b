import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { localhostCertificate } from '../provider/terraform/certificate';
import { mirrorCliConfig, terraformPlatform } from '../provider/terraform/install';
import { tofuBinary, tofuProject } from '../test/e2e/fixtures/tofu-project';
import { iacOptions, root, runBench, seconds, withKeywardServer } from './iac-run';
import { NOOP_PROVIDER_SOURCE } from './noop-provider';
import { median } from './stats';

/*
 * bench/terraform: wall time of `tofu plan` and `tofu apply` for N = 1, 10, 100 keyward_api_key
 * resources (and of a plan right after, with nothing to do), against two baselines in the same
 * run: N terraform_data (built into the engine, no provider process) and N noop_thing from
 * bench/noop-provider.ts (a Node provider on keyward's plugin code that does nothing); the same N keys with
 * key_wo fed by N ephemeral keyward_key_material (on an engine with write-only arguments); and the
 * provider's start-up time, from spawn to the handshake line. Needs KEYWARD_ENGINES_BIN (or
 * TOFU_BIN) and a build.
 *   node dist/bench/terraform.js [--counts 1,10,100] [--warm-keys 300] [--rounds 5]
 */
// `--rounds N`: each round starts its own server and times every configuration once; 1 by default.
const { options, counts, warmKeys } = iacOptions({ rounds: 'value' });

/** Milliseconds from spawning the provider to its handshake line, median of `runs`. */
async function providerStartup(runs: number): Promise<number> {
  const hostCertificate = localhostCertificate().certPem;
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

type Kind = 'keyward' | 'keyward_wo' | 'terraform_data' | 'noop';

function configuration(kind: Kind, count: number): string {
  if (kind === 'noop')
    return `terraform {\n  required_providers {\n    noop = { source = "${NOOP_PROVIDER_SOURCE}" }\n  }\n}\nresource "noop_thing" "bench" {\n  count = ${count}\n  input = "bench \${count.index}"\n}\n`;
  const header =
    kind === 'terraform_data'
      ? ''
      : 'terraform {\n  required_providers {\n    keyward = { source = "registry.terraform.io/keyward/keyward" }\n  }\n}\n';
  if (kind === 'terraform_data')
    return `resource "terraform_data" "bench" {\n  count = ${count}\n  input = "bench \${count.index}"\n}\n`;
  // Write-only: each key from its own ephemeral key material, which the engine opens at plan and apply.
  const writeOnly =
    kind === 'keyward_wo'
      ? '  key_wo         = ephemeral.keyward_key_material.bench[count.index].key\n  key_wo_version = "1"\n'
      : '';
  const material = kind === 'keyward_wo' ? `ephemeral "keyward_key_material" "bench" {\n  count = ${count}\n}\n` : '';
  return `${header}${material}resource "keyward_api_key" "bench" {\n  count        = ${count}\n  name         = "bench \${count.index}"\n  scopes       = ["contacts:read"]\n  ip_allowlist = ["10.0.0.0/8"]\n  grace_period = "0s"\n${writeOnly}  lifecycle { create_before_destroy = true }\n}\n`;
}

/** Puts the no-op provider in the project's filesystem mirror, next to keyward's, and routes its source there. */
function installNoopProvider(dir: string): void {
  const mirror = join(dir, '.mirror');
  const directory = join(mirror, NOOP_PROVIDER_SOURCE, '0.0.1', terraformPlatform());
  mkdirSync(directory, { recursive: true });
  const launcher = join(directory, 'terraform-provider-noop_v0.0.1');
  writeFileSync(launcher, `#!/bin/sh\nexec '${process.execPath}' '${join(__dirname, 'noop-provider.js')}' "$@"\n`);
  chmodSync(launcher, 0o755);
  writeFileSync(join(dir, '.tofurc'), mirrorCliConfig(mirror, NOOP_PROVIDER_SOURCE));
}

async function timeConfiguration(kind: Kind, count: number, env: NodeJS.ProcessEnv) {
  const project = tofuProject(`bench-${kind}-${count}`, env);
  try {
    writeFileSync(join(project.dir, 'main.tf'), configuration(kind, count));
    if (kind === 'noop') installNoopProvider(project.dir);
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

type Timing = Awaited<ReturnType<typeof timeConfiguration>>;

async function main(): Promise<void> {
  const engine = /(OpenTofu|Terraform) v[\d.]+/.exec(
    execFileSync(tofuBinary(), ['version'], { encoding: 'utf8' }),
  )?.[0];
  // Write-only arguments and ephemeral resources arrived in OpenTofu 1.11.
  const writeOnly = !/^OpenTofu v1\.([0-9]|10)\./.test(engine ?? '');
  const rounds = options.number('rounds', 1);
  console.log(
    `${engine}, Node ${process.version}, ${warmKeys ? `server warmed with ${warmKeys} keys` : 'server freshly started'}${rounds > 1 ? `, ${rounds} rounds (a new server each), medians` : ''}`,
  );
  console.log(`provider start-up (spawn to handshake, median of 9): ${Math.round(await providerStartup(9))} ms\n`);
  const timed = new Map<number, { builtIn: Timing; noop: Timing; keys: Timing; wo?: Timing }[]>(
    counts.map((count) => [count, []]),
  );
  for (let round = 0; round < rounds; round += 1) {
    await withKeywardServer('keyward-bench-tofu-', warmKeys, async (env) => {
      for (const count of counts) {
        const builtIn = await timeConfiguration('terraform_data', count, {});
        const noop = await timeConfiguration('noop', count, {});
        const keys = await timeConfiguration('keyward', count, env);
        const wo = writeOnly ? await timeConfiguration('keyward_wo', count, env) : undefined;
        timed.get(count)!.push({ builtIn, noop, keys, ...(wo ? { wo } : {}) });
      }
    });
  }
  const ratio = (value: number) => value.toFixed(2);
  console.log(
    '| keys | plan (s) | terraform_data plan (s) | ratio | no-op provider plan (s) | ratio | apply (s) | terraform_data apply (s) | ratio | no-op provider apply (s) | ratio | plan after apply (s) | terraform_data (s) | no-op provider (s) |',
  );
  console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const count of counts) {
    const runs = timed.get(count)!;
    const of = (pick: (run: (typeof runs)[number]) => number) => median(runs.map(pick));
    // Ratios are each round's own, then their median: the machine's speed drifts between rounds.
    console.log(
      `| ${count} | ${seconds(of((r) => r.keys.plan))} | ${seconds(of((r) => r.builtIn.plan))} | ${ratio(of((r) => r.keys.plan / r.builtIn.plan))} | ${seconds(of((r) => r.noop.plan))} | ${ratio(of((r) => r.keys.plan / r.noop.plan))} | ${seconds(of((r) => r.keys.apply))} | ${seconds(of((r) => r.builtIn.apply))} | ${ratio(of((r) => r.keys.apply / r.builtIn.apply))} | ${seconds(of((r) => r.noop.apply))} | ${ratio(of((r) => r.keys.apply / r.noop.apply))} | ${seconds(of((r) => r.keys.replan))} | ${seconds(of((r) => r.builtIn.replan))} | ${seconds(of((r) => r.noop.replan))} |`,
    );
  }
  if (rounds > 1)
    for (const count of counts)
      console.log(
        `${count} keys, apply / no-op provider apply per round: ${timed
          .get(count)!
          .map((run) => ratio(run.keys.apply / run.noop.apply))
          .join(', ')}`,
      );
  if (!writeOnly) return;
  console.log('\nwith key_wo from one ephemeral keyward_key_material per key:\n');
  console.log('| keys | plan (s) | apply (s) | plan after apply (s) |');
  console.log('|---:|---:|---:|---:|');
  for (const count of counts) {
    const runs = timed.get(count)!.map((run) => run.wo!);
    console.log(
      `| ${count} | ${seconds(median(runs.map((run) => run.plan)))} | ${seconds(median(runs.map((run) => run.apply)))} | ${seconds(median(runs.map((run) => run.replan)))} |`,
    );
  }
}

runBench(main);
