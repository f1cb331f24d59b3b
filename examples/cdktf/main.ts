import { KeywardProvider, RotatingApiKey } from '@keyward/cdktf';
import { App, DataResource, TerraformOutput, TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';

/*
 * A CDKTF app: a CRM integration's key, rotated with zero downtime, and the consumer that writes it
 * where the integration reads it. Settings come from the environment so a pipeline can drive it:
 *   ROTATE_AFTER=2026-12-01 KEY_FILE=./secrets/crm.key node main.js   (or `cdktf synth`)
 * then `tofu init && tofu apply` in cdktf.out/stacks/keys (KEYWARD_URL and KEYWARD_ROOT_KEY set).
 */
class KeysStack extends TerraformStack {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    // url and root_key come from KEYWARD_URL and KEYWARD_ROOT_KEY when not set here.
    new KeywardProvider(this, 'keyward', {});

    const crm = new RotatingApiKey(this, 'crm', {
      name: 'crm sync',
      description: 'CRM nightly sync',
      scopes: JSON.parse(process.env.KEY_SCOPES ?? '["contacts:read"]') as string[],
      ipAllowlist: ['127.0.0.0/8', '203.0.113.0/24'],
      metadata: { team: 'crm' },
      maxAgeDays: 90,
      rotateAfter: process.env.ROTATE_AFTER ?? '2026-11-01',
      gracePeriod: process.env.GRACE_PERIOD ?? '30s',
    });

    // Runs when the key is replaced: after the new key exists, before the old one is retired.
    new DataResource(this, 'crm_consumer', {
      input: { keyId: crm.id },
      provisioners: [
        {
          type: 'local-exec',
          command:
            'mkdir -p "$(dirname "$KEY_FILE")" && umask 077 && printf \'%s\' "$KEY" > "$KEY_FILE.tmp" && mv "$KEY_FILE.tmp" "$KEY_FILE"',
          environment: { KEY: crm.key, KEY_FILE: process.env.KEY_FILE ?? './secrets/crm.key' },
        },
      ],
      lifecycle: { replaceTriggeredBy: [`${crm.terraformResourceType}.${crm.friendlyUniqueId}.id`] },
    });

    new TerraformOutput(this, 'key_id', { value: crm.id });
    new TerraformOutput(this, 'key_start', { value: crm.start });
  }
}

const app = new App({ outdir: process.env.CDKTF_OUTDIR ?? 'cdktf.out' });
new KeysStack(app, 'keys');
app.synth();
