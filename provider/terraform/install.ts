import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { TERRAFORM_PROVIDER_SOURCE } from './schema';

/*
 * Puts the provider where Terraform and OpenTofu look for it. Both find providers in a filesystem
 * mirror laid out as <host>/<namespace>/<type>/<version>/<os>_<arch>/terraform-provider-<type>_v<version>;
 * `~/.terraform.d/plugins` is such a mirror that both search without any CLI configuration. The
 * file placed there is a small launcher that runs this package's provider with this Node. A release
 * (scripts/release-terraform-provider.mjs: a zip holding a single executable) goes into the same
 * mirror in its packed layout, <host>/<namespace>/<type>/terraform-provider-<type>_<version>_<os>_<arch>.zip,
 * and needs no Node on the machine.
 */

function packageRoot(from: string): string {
  return existsSync(join(from, 'package.json')) ? from : packageRoot(dirname(from));
}

/** The platform directory name Terraform uses, e.g. linux_amd64. */
export function terraformPlatform(): string {
  const arch = { x64: 'amd64', arm64: 'arm64', ia32: '386', arm: 'arm' }[process.arch as string] ?? process.arch;
  return `${process.platform}_${arch}`;
}

function launcher(): string {
  const entry = join(packageRoot(__dirname), 'bin', 'terraform-provider-keyward.js');
  return `#!/bin/sh\n# keyward's Terraform/OpenTofu provider (written by \`keyward terraform install\`).\nexec '${process.execPath}' '${entry}' "$@"\n`;
}

/** What an install produced. */
export interface TerraformInstall {
  version: string;
  path: string;
  cliConfig: string;
}

/**
 * The CLI config that routes keyward's provider (or the providers `sources` names) to a filesystem
 * mirror and nothing else to it.
 */
export function mirrorCliConfig(mirror: string, sources = 'registry.terraform.io/keyward/*'): string {
  return [
    'provider_installation {',
    '  filesystem_mirror {',
    `    path    = "${resolve(mirror)}"`,
    `    include = ["${sources}"]`,
    '  }',
    '  direct {',
    `    exclude = ["${sources}"]`,
    '  }',
    '}',
    '',
  ].join('\n');
}

const defaultMirror = () => join(homedir(), '.terraform.d', 'plugins');
const packedZip = (mirror: string, version: string) =>
  join(resolve(mirror), TERRAFORM_PROVIDER_SOURCE, `terraform-provider-keyward_${version}_${terraformPlatform()}.zip`);
const unpackedDir = (mirror: string, version: string) =>
  join(resolve(mirror), TERRAFORM_PROVIDER_SOURCE, version, terraformPlatform());

/** Writes the launcher into a filesystem mirror (default ~/.terraform.d/plugins). */
export function installIntoMirror(mirror = defaultMirror()): TerraformInstall {
  const version = (
    JSON.parse(readFileSync(join(packageRoot(__dirname), 'package.json'), 'utf8')) as { version: string }
  ).version;
  const directory = unpackedDir(mirror, version);
  mkdirSync(directory, { recursive: true });
  // One package per version and platform: a packed release of this version would compete with it.
  rmSync(packedZip(mirror, version), { force: true });
  const path = join(directory, `terraform-provider-keyward_v${version}`);
  writeFileSync(path, launcher());
  chmodSync(path, 0o755);
  return { version, path, cliConfig: mirrorCliConfig(mirror) };
}

/** Copies a release's zip for this platform into a mirror's packed layout, after checking it against SHA256SUMS. */
export function installReleaseIntoMirror(release: string, mirror = defaultMirror()): TerraformInstall {
  const sumsFile = readdirSync(release).find((file) => /^terraform-provider-keyward_[^_]+_SHA256SUMS$/.test(file));
  if (!sumsFile) throw new Error(`${release} holds no terraform-provider-keyward_<version>_SHA256SUMS`);
  const version = sumsFile.split('_')[1] as string;
  const zipName = `terraform-provider-keyward_${version}_${terraformPlatform()}.zip`;
  const expected = readFileSync(join(release, sumsFile), 'utf8')
    .split('\n')
    .map((line) => line.split(/\s+/))
    .find(([, file]) => file === zipName)?.[0];
  if (!expected)
    throw new Error(`${sumsFile} lists no ${zipName}: this release was not built for ${terraformPlatform()}`);
  const zip = readFileSync(join(release, zipName));
  const actual = createHash('sha256').update(zip).digest('hex');
  if (actual !== expected) throw new Error(`${zipName} has sha256 ${actual}, but ${sumsFile} says ${expected}`);
  const path = packedZip(mirror, version);
  mkdirSync(dirname(path), { recursive: true });
  // One package per version and platform: an unpacked launcher of this version would compete with it.
  rmSync(unpackedDir(mirror, version), { recursive: true, force: true });
  copyFileSync(join(release, zipName), path);
  return { version, path, cliConfig: mirrorCliConfig(mirror) };
}

/** Writes the launcher into a directory for `dev_overrides` (no `init` needed) and returns the block. */
export function installForDevOverrides(directory: string): TerraformInstall {
  mkdirSync(directory, { recursive: true });
  const path = join(resolve(directory), 'terraform-provider-keyward');
  writeFileSync(path, launcher());
  chmodSync(path, 0o755);
  const cliConfig = [
    'provider_installation {',
    '  dev_overrides {',
    `    "${TERRAFORM_PROVIDER_SOURCE}" = "${resolve(directory)}"`,
    '  }',
    '  direct {}',
    '}',
    '',
  ].join('\n');
  return { version: 'dev', path, cliConfig };
}
