import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { TERRAFORM_PROVIDER_SOURCE } from './schema';

/*
 * Puts the provider where Terraform and OpenTofu look for it. Both find providers in a filesystem
 * mirror laid out as <host>/<namespace>/<type>/<version>/<os>_<arch>/terraform-provider-<type>_v<version>;
 * `~/.terraform.d/plugins` is such a mirror that both search without any CLI configuration. The
 * file placed there is a small launcher that runs this package's provider with this Node.
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

/** Writes the launcher into a filesystem mirror (default ~/.terraform.d/plugins). */
export function installIntoMirror(mirror = join(homedir(), '.terraform.d', 'plugins')): TerraformInstall {
  const version = (
    JSON.parse(readFileSync(join(packageRoot(__dirname), 'package.json'), 'utf8')) as { version: string }
  ).version;
  const directory = join(resolve(mirror), TERRAFORM_PROVIDER_SOURCE, version, terraformPlatform());
  mkdirSync(directory, { recursive: true });
  const path = join(directory, `terraform-provider-keyward_v${version}`);
  writeFileSync(path, launcher());
  chmodSync(path, 0o755);
  const cliConfig = [
    'provider_installation {',
    '  filesystem_mirror {',
    `    path    = "${resolve(mirror)}"`,
    '    include = ["registry.terraform.io/keyward/*"]',
    '  }',
    '  direct {',
    '    exclude = ["registry.terraform.io/keyward/*"]',
    '  }',
    '}',
    '',
  ].join('\n');
  return { version, path, cliConfig };
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
