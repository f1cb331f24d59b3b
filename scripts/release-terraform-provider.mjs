#!/usr/bin/env node
// Builds the Terraform/OpenTofu provider release for this machine's platform into dist/release/:
//   terraform-provider-keyward_<version>_<os>_<arch>.zip   holding terraform-provider-keyward_v<version>
//   terraform-provider-keyward_<version>_manifest.json     the registry manifest (protocol 6.0)
//   terraform-provider-keyward_<version>_SHA256SUMS        sha256 of the zip and the manifest
// The executable is a Node single-executable application (SEA): the provider bundled by esbuild into
// one CommonJS file, its .proto files (pre-parsed to JSON) and schema.json as SEA assets, injected
// by postject into a copy of this Node binary, so the machine that runs it needs no Node.
// Needs `npm run build` first (it bundles dist/); `npm run release:terraform` does both.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { zipSync } from 'fflate';
import postject from 'postject';
import protobuf from 'protobufjs';

const require = createRequire(import.meta.url);
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = resolve(process.argv[2] ?? join(ROOT, 'dist', 'release'));
// The fuse string Node's SEA loader looks for; postject flips it to say a blob is present.
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
// Zip entries get a fixed date so the same executable always makes the same zip (and zh: hash).
const ZIP_MTIME = new Date('2020-01-01T00:00:00Z');

const pluginJs = join(ROOT, 'dist', 'provider', 'terraform', 'plugin.js');
if (!existsSync(pluginJs)) throw new Error(`${pluginJs} is missing: run \`npm run build\` first`);
const { PROTO_FILES, PROTO_OPTIONS, SEA_ASSETS } = require(pluginJs);
const { terraformPlatform } = require(join(ROOT, 'dist', 'provider', 'terraform', 'install.js'));

const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const platform = terraformPlatform();
const name = `terraform-provider-keyward_${version}`;
const executableName = `terraform-provider-keyward_v${version}`;
const work = join(OUT, '.build');
rmSync(OUT, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
const started = Date.now();

// 1. One CommonJS file: SEA runs a single script whose require() only knows Node's built-ins.
const bundle = join(work, 'provider.cjs');
await build({
  entryPoints: [join(ROOT, 'bin', 'terraform-provider-keyward.js')],
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  outfile: bundle,
  legalComments: 'none',
  logLevel: 'warning',
});

// 2. Assets: the .proto files parsed as proto-loader would (keepCase), and the committed schema.
const protocolDir = join(ROOT, 'provider', 'terraform', 'protocol');
const protoRoot = new protobuf.Root();
protoRoot.loadSync(
  PROTO_FILES.map((file) => join(protocolDir, file)),
  { keepCase: PROTO_OPTIONS.keepCase },
);
const protocolJson = join(work, SEA_ASSETS.protocol);
writeFileSync(protocolJson, JSON.stringify(protoRoot.toJSON()));

// 3. The SEA blob, injected into a copy of this Node binary.
const blob = join(work, 'sea-prep.blob');
const seaConfig = join(work, 'sea-config.json');
writeFileSync(
  seaConfig,
  JSON.stringify({
    main: bundle,
    output: blob,
    disableExperimentalSEAWarning: true,
    assets: {
      [SEA_ASSETS.protocol]: protocolJson,
      [SEA_ASSETS.schema]: join(ROOT, 'provider', 'terraform', 'schema.json'),
    },
  }),
);
execFileSync(process.execPath, ['--experimental-sea-config', seaConfig], { stdio: 'inherit' });
const executable = join(work, executableName);
copyFileSync(process.execPath, executable);
chmodSync(executable, 0o755);
await postject.inject(executable, 'NODE_SEA_BLOB', readFileSync(blob), { sentinelFuse: SEA_FUSE });

// 4. The release files: the zip (mode 0755 kept, as tofu unpacks with the zip's mode), manifest, sums.
const zipName = `${name}_${platform}.zip`;
const zip = zipSync(
  { [executableName]: [readFileSync(executable), { os: 3, attrs: (0o100755 << 16) >>> 0, mtime: ZIP_MTIME }] },
  { level: 9 },
);
writeFileSync(join(OUT, zipName), zip);
const manifestName = `${name}_manifest.json`;
writeFileSync(
  join(OUT, manifestName),
  `${JSON.stringify({ version: 1, metadata: { protocol_versions: ['6.0'] } }, null, 2)}\n`,
);
const sums = [zipName, manifestName]
  .sort()
  .map(
    (file) =>
      `${createHash('sha256')
        .update(readFileSync(join(OUT, file)))
        .digest('hex')}  ${file}\n`,
  )
  .join('');
writeFileSync(join(OUT, `${name}_SHA256SUMS`), sums);

const executableBytes = statSync(executable).size;
rmSync(work, { recursive: true, force: true });
const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
process.stdout.write(
  `${JSON.stringify({
    version,
    platform,
    dir: OUT,
    zip: zipName,
    zipBytes: zip.length,
    executableBytes,
    seconds: Math.round((Date.now() - started) / 100) / 10,
  })}\n`,
);
process.stderr.write(
  `terraform-provider-keyward ${version} ${platform}: ${zipName} ${mb(zip.length)} (executable ${mb(executableBytes)})\n`,
);
