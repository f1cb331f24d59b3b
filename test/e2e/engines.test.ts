import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/*
 * The real IaC engines run here: OpenTofu applies and destroys a config with an engine built-in,
 * and Pulumi runs a program with a dynamic resource. The engines come from
 * scripts/install-iac-engines.sh (KEYWARD_ENGINES_BIN is its last line), or from TOFU_BIN /
 * TERRAFORM_BIN and PULUMI_BIN for engines a user already has.
 */
const enginesBin = process.env.KEYWARD_ENGINES_BIN;
const tofu = process.env.TOFU_BIN ?? process.env.TERRAFORM_BIN ?? (enginesBin ? join(enginesBin, 'tofu') : undefined);

function run(
  command: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, env, timeout: 300_000, maxBuffer: 16 * 1024 * 1024 }, (error, out, err) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, out, err });
    });
  });
}

describe('OpenTofu engine', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  beforeAll(() => {
    if (!tofu)
      throw new Error(
        'no OpenTofu: run scripts/install-iac-engines.sh and set KEYWARD_ENGINES_BIN to its last line, or set TOFU_BIN',
      );
    dir = mkdtempSync(join(tmpdir(), 'keyward-tofu-'));
    // An empty CLI config: no mirrors, no credentials, nothing from the machine's own settings.
    writeFileSync(join(dir, 'empty.tfrc'), '');
    env = {
      PATH: process.env.PATH,
      HOME: dir,
      TF_CLI_CONFIG_FILE: join(dir, 'empty.tfrc'),
      TF_IN_AUTOMATION: '1',
      CHECKPOINT_DISABLE: '1',
    };
    writeFileSync(
      join(dir, 'main.tf'),
      [
        'resource "terraform_data" "smoke" {',
        '  input = "keyward"',
        '}',
        '',
        'output "echo" {',
        '  value = terraform_data.smoke.output',
        '}',
        '',
      ].join('\n'),
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reports its version', async () => {
    const version = await run(tofu!, ['version'], dir, env);
    expect(version.code).toBe(0);
    expect(version.out).toMatch(/^OpenTofu v\d+\.\d+\.\d+/);
  });

  it('applies and destroys a terraform_data resource', async () => {
    expect((await run(tofu!, ['init', '-input=false', '-no-color'], dir, env)).code).toBe(0);
    const apply = await run(tofu!, ['apply', '-auto-approve', '-input=false', '-no-color'], dir, env);
    expect(apply.err).toBe('');
    expect(apply.out).toContain('Apply complete! Resources: 1 added, 0 changed, 0 destroyed.');
    expect((await run(tofu!, ['output', '-raw', 'echo'], dir, env)).out).toBe('keyward');
    const plan = await run(tofu!, ['plan', '-detailed-exitcode', '-input=false', '-no-color'], dir, env);
    expect(plan.code).toBe(0);
    const destroy = await run(tofu!, ['destroy', '-auto-approve', '-input=false', '-no-color'], dir, env);
    expect(destroy.out).toContain('Destroy complete! Resources: 1 destroyed.');
  });
});

const pulumiBin = process.env.PULUMI_BIN ? join(process.env.PULUMI_BIN, '..') : enginesBin;

describe('Pulumi engine', () => {
  it('runs preview, up and destroy of a program with one dynamic resource, on the local file backend', async () => {
    if (!pulumiBin)
      throw new Error(
        'no Pulumi: run scripts/install-iac-engines.sh and set KEYWARD_ENGINES_BIN to its last line, or set PULUMI_BIN',
      );
    const dir = mkdtempSync(join(tmpdir(), 'keyward-pulumi-'));
    try {
      const smoke = join(__dirname, '../../dist/test/e2e/fixtures/pulumi-smoke.js');
      const result = await run(
        process.execPath,
        [smoke, pulumiBin, join(dir, 'backend'), dir],
        join(__dirname, '../..'),
        { PATH: process.env.PATH, HOME: dir },
      );
      expect(result.err).toBe('');
      expect(result.code).toBe(0);
      const report = JSON.parse(result.out.trim().split('\n').at(-1)!);
      expect(report).toEqual({ preview: { create: 2 }, up: { create: 2 }, length: 7, destroy: { delete: 2 } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
