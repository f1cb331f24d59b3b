import { spawn, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { localhostCertificate } from '../../provider/terraform/certificate';
import { Keyward } from '../../sdk';
import { type ServeProcess, serveEnvironment, spawnServe } from '../support/process';
import { type TofuProject, tofuProject } from './fixtures/tofu-project';

const PROVIDER_BIN = resolve(__dirname, '../../bin/terraform-provider-keyward.js');
const COOKIE = { TF_PLUGIN_MAGIC_COOKIE: 'd602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2' };

/* The provider as a plugin: its handshake, the schema it serves to the engine, and its data source. */
describe('terraform-provider-keyward', () => {
  it('refuses to run outside an engine, and refuses a host without protocol 6', () => {
    const alone = spawnSync(process.execPath, [PROVIDER_BIN], { encoding: 'utf8', env: { PATH: process.env.PATH } });
    expect(alone.status).toBe(1);
    expect(alone.stderr).toContain('the engine starts it');
    const old = spawnSync(process.execPath, [PROVIDER_BIN], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, ...COOKIE, PLUGIN_PROTOCOL_VERSIONS: '4,5' },
    });
    expect(old.status).toBe(1);
    expect(old.stderr).toContain('speaks plugin protocol 6; the host offered 4, 5');
  });

  it('prints the go-plugin handshake with a certificate for localhost when the host sends its own', async () => {
    const hostCertificate = localhostCertificate().certPem;
    const child = spawn(process.execPath, [PROVIDER_BIN], {
      env: { PATH: process.env.PATH, ...COOKIE, PLUGIN_PROTOCOL_VERSIONS: '5,6', PLUGIN_CLIENT_CERT: hostCertificate },
    });
    const line = await new Promise<string>((done) => child.stdout.once('data', (chunk) => done(String(chunk))));
    child.kill();
    const [core, app, network, address, protocol, certificate] = line.trim().split('|');
    expect([core, app, network, protocol]).toEqual(['1', '6', 'tcp', 'grpc']);
    expect(address).toMatch(/^127\.0\.0\.1:\d+$/);
    // Base64 without padding, of the DER certificate (go-plugin decodes it with RawStdEncoding).
    expect(certificate).not.toContain('=');
    const parsed = new X509Certificate(Buffer.from(certificate!, 'base64'));
    expect(parsed.checkHost('localhost')).toBe('localhost');
    expect(parsed.ca).toBe(true);
  });

  describe('under OpenTofu', () => {
    let server: ServeProcess;
    let cleanup: () => Promise<void>;
    let client: Keyward;
    let project: TofuProject;
    beforeAll(async () => {
      const environment = await serveEnvironment('keyward-tofu-provider-');
      cleanup = environment.cleanup;
      server = await spawnServe([], environment.env);
      const rootKey = readFileSync(join(environment.dataDir, 'root-key'), 'utf8').trim();
      client = new Keyward({ baseUrl: server.url, rootKey });
      project = tofuProject('keyward-tofu-provider', {});
      // This time the connection comes from the provider block.
      writeFileSync(
        join(project.dir, 'main.tf'),
        [
          'terraform {',
          '  required_providers {',
          '    keyward = { source = "registry.terraform.io/keyward/keyward" }',
          '  }',
          '}',
          'variable "root_key" {',
          '  type      = string',
          '  sensitive = true',
          '}',
          'variable "key_id" { type = string }',
          `provider "keyward" {`,
          `  url      = "${server.url}"`,
          '  root_key = var.root_key',
          '}',
          'data "keyward_api_key" "existing" { id = var.key_id }',
          'output "name" { value = data.keyward_api_key.existing.name }',
          'output "scopes" { value = data.keyward_api_key.existing.scopes }',
          'output "team" { value = data.keyward_api_key.existing.metadata.team }',
          '',
        ].join('\n'),
      );
      writeFileSync(join(project.dir, 'terraform.tfvars'), `root_key = "${rootKey}"\n`);
    });
    afterAll(async () => {
      await server?.stop();
      await cleanup?.();
      project?.remove();
    });

    it('serves exactly the committed schema', async () => {
      expect((await project.run(['init', '-input=false'])).code).toBe(0);
      const shown = await project.run(['providers', 'schema', '-json']);
      expect(shown.code).toBe(0);
      const served = JSON.parse(shown.out).provider_schemas['registry.terraform.io/keyward/keyward'];
      const committed = JSON.parse(readFileSync(resolve(__dirname, '../../provider/terraform/schema.json'), 'utf8'))
        .provider_schemas['registry.terraform.io/keyward/keyward'];
      expect({
        provider: served.provider,
        resource_schemas: served.resource_schemas,
        data_source_schemas: served.data_source_schemas,
        ephemeral_resource_schemas: served.ephemeral_resource_schemas,
      }).toEqual(committed);
    });

    it('reads a key with the data source, never its secret', async () => {
      const key = await client.keys.create({
        name: 'reporting',
        scopes: ['reports:read'],
        metadata: { team: 'finance' },
      });
      const apply = await project.run(['apply', '-auto-approve', '-input=false', '-var', `key_id=${key.id}`]);
      expect(apply.code).toBe(0);
      expect((await project.run(['output', '-raw', 'name'])).out).toBe('reporting');
      expect((await project.run(['output', '-raw', 'team'])).out).toBe('finance');
      expect(readFileSync(join(project.dir, 'terraform.tfstate'), 'utf8')).not.toContain(key.key);
      const missing = await project.run(['plan', '-input=false', '-var', 'key_id=key_doesnotexist']);
      expect(missing.code).toBe(1);
      expect(missing.err).toContain('Reading the key failed');
    });

    it('reports a wrong root key as a diagnostic, not a crash', async () => {
      const denied = await project.run([
        'plan',
        '-input=false',
        '-var',
        'key_id=key_x',
        '-var',
        'root_key=kw_root_wrong',
      ]);
      expect(denied.code).toBe(1);
      expect(denied.err).toMatch(/Error: Reading the key failed|Error: Invalid root_key/);
      expect(denied.err).not.toContain('kw_root_wrong');
    });
  });
});
