import { ApiKey, ConfigFile } from '@keyward/pulumi';
import * as pulumi from '@pulumi/pulumi';

/*
 * A platform team's keys for three vendors, each scoped to what that vendor does and limited to
 * the vendor's egress addresses. Each key lands in the config file its consumer reads, so a
 * rotation (bump `rotateAfter`) hands the vendor integration its new key before the old one retires.
 *
 *   pulumi config set keyward:url http://127.0.0.1:8080
 *   pulumi config set --secret keyward:rootKey kw_root_...
 *   pulumi up
 */
const config = new pulumi.Config();
const secretsDir = config.get('secretsDir') ?? './secrets';
const rotateAfter = config.get('rotateAfter') ?? '2026-11-01';

const vendors = {
  'crm-sync': { scopes: ['contacts:read', 'contacts:write'], ipAllowlist: ['203.0.113.0/24'] },
  'billing-export': {
    scopes: ['invoices:read', 'invoices:export'],
    ipAllowlist: ['198.51.100.7/32', '2001:db8:40::/48'],
  },
  'email-sender': {
    scopes: ['email:send'],
    ipAllowlist: ['192.0.2.0/26'],
    rateLimit: { limit: 600, windowSeconds: 60 },
  },
};

/** Each vendor's key id and display prefix (the secret itself stays in its config file). */
export const keys: Record<
  string,
  { keyId: pulumi.Output<string>; start: pulumi.Output<string>; file: pulumi.Output<string> }
> = {};

for (const [vendor, policy] of Object.entries(vendors)) {
  const key = new ApiKey(vendor, {
    name: vendor,
    description: `Key for the ${vendor} integration`,
    ...policy,
    metadata: { vendor, owner: 'platform-team' },
    maxAgeDays: 90,
    rotation: { rotateAfter, gracePeriod: '24h' },
  });
  const file = new ConfigFile(`${vendor}-config`, {
    path: `${secretsDir}/${vendor}.json`,
    values: { apiKey: key.key, keyId: key.keyId },
  });
  keys[vendor] = { keyId: key.keyId, start: key.start, file: file.path };
}
