import { keyWoDiagnostic, planApiKey, validateApiKeyConfig } from '../../provider/terraform/api-key';
import { UNKNOWN } from '../../provider/terraform/cty';
import { openKeyMaterial, validateKeyMaterialConfig } from '../../provider/terraform/key-material';
import { generateKey, KeywardConflictError, KeywardError, KeywardValidationError } from '../../sdk';
import { parseKey } from '../../server/keys/format';
import { withWrongChecksum } from '../support/keys';

/*
 * keyward_api_key.key_wo and keyward_key_material, RPC by RPC, without an engine: what validation
 * refuses (and on which engines), what a plan stores, and how the server's refusals become
 * diagnostics on key_wo. The e2e suite (test/e2e/terraform-ephemeral.test.ts) runs the same under
 * real OpenTofu 1.12 and 1.10.
 */
const modern = { writeOnlyAttributesAllowed: true };
const legacy = { writeOnlyAttributesAllowed: false };
const config = (extra: Record<string, unknown>) => ({ name: 'crm', scopes: ['contacts:read'], ...extra }) as never;
const paths = (diagnostics: { attribute?: { steps: unknown[] } }[]) =>
  diagnostics.map((diagnostic) => diagnostic.attribute?.steps);

describe('key_wo at validate', () => {
  it('accepts a well-formed key with its version, known or not yet known', () => {
    expect(validateApiKeyConfig(config({ key_wo: generateKey(), key_wo_version: '1' }), modern)).toEqual([]);
    expect(validateApiKeyConfig(config({ key_wo: UNKNOWN, key_wo_version: UNKNOWN }), modern)).toEqual([]);
    const test = generateKey({ environment: 'test' });
    expect(validateApiKeyConfig(config({ key_wo: test, key_wo_version: '1', environment: 'test' }), modern)).toEqual(
      [],
    );
  });

  it('refuses key_wo on an engine that does not announce write-only support, naming key_wo', () => {
    for (const value of [generateKey(), UNKNOWN]) {
      const diagnostics = validateApiKeyConfig(config({ key_wo: value, key_wo_version: '1' }), legacy);
      expect(diagnostics).toHaveLength(1);
      expect(diagnostics[0]).toMatchObject({ severity: 'ERROR', summary: expect.stringContaining('key_wo') });
      expect(diagnostics[0]!.detail).toMatch(/^key_wo: .*write-only arguments.*1\.11/);
      expect(paths(diagnostics)).toEqual([[{ attribute_name: 'key_wo' }]]);
    }
    // Without key_wo, an old engine is served as before.
    expect(validateApiKeyConfig(config({}), legacy)).toEqual([]);
  });

  it('names key_wo for a malformed key or one of the other environment, without repeating it', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ key_wo: 'hunter2' }, /key_wo: must be a keyward key/],
      [{ key_wo: generateKey({ environment: 'test' }) }, /key_wo: must start with kw_live_/],
      [{ key_wo: generateKey(), environment: 'test' }, /key_wo: must start with kw_test_/],
      [{ key_wo: withWrongChecksum(generateKey()) }, /key_wo: has a wrong checksum/],
      [{ key_wo: withWrongChecksum(generateKey()), environment: UNKNOWN }, /key_wo: must be a keyward key/],
    ];
    for (const [extra, reason] of cases) {
      const diagnostics = validateApiKeyConfig(config({ ...extra, key_wo_version: '1' }), modern);
      expect(diagnostics.map((diagnostic) => diagnostic.detail)).toEqual([expect.stringMatching(reason)]);
      expect(paths(diagnostics)).toEqual([[{ attribute_name: 'key_wo' }]]);
      expect(JSON.stringify(diagnostics)).not.toContain(String(extra.key_wo).slice(8, 40) || String(extra.key_wo));
    }
  });

  it('requires key_wo_version with key_wo, and only with it', () => {
    expect(paths(validateApiKeyConfig(config({ key_wo: generateKey() }), modern))).toEqual([
      [{ attribute_name: 'key_wo_version' }],
    ]);
    expect(paths(validateApiKeyConfig(config({ key_wo_version: '1' }), modern))).toEqual([
      [{ attribute_name: 'key_wo_version' }],
    ]);
  });
});

describe('key_wo in plans and state', () => {
  const prior = {
    id: 'key_1',
    name: 'crm',
    key: null,
    start: null,
    key_wo: null,
    key_wo_version: 'rotated-2026-11-01',
    rotate_after: null,
    created_at: '2026-11-01T00:00:00Z',
  } as never;

  it('plans a create with key and start null and key_wo never stored', () => {
    const key = generateKey();
    const plan = planApiKey(
      null,
      config({ key_wo: key, key_wo_version: '1' }),
      config({ key_wo: key, key_wo_version: '1' }),
      Buffer.alloc(0),
    );
    expect(plan.planned).toMatchObject({ key: null, start: null, key_wo: null, id: UNKNOWN, key_wo_version: '1' });
    expect(JSON.stringify(plan)).not.toContain(key.slice(8));
    // Without key_wo, keyward generates the key: unknown until apply.
    expect(planApiKey(null, config({}), config({}), Buffer.alloc(0)).planned).toMatchObject({
      key: UNKNOWN,
      start: UNKNOWN,
    });
  });

  it('replaces the key when key_wo_version changes, never because of key_wo itself', () => {
    const proposed = (version: string | null) =>
      ({ ...(prior as object), key_wo: generateKey(), key_wo_version: version }) as never;
    expect(planApiKey(prior, proposed('rotated-2026-11-01'), proposed('rotated-2026-11-01'), Buffer.alloc(0))).toEqual(
      expect.objectContaining({ requiresReplace: [], planned: expect.objectContaining({ key_wo: null }) }),
    );
    const rotated = planApiKey(prior, proposed('rotated-2026-12-01'), proposed('rotated-2026-12-01'), Buffer.alloc(0));
    expect(rotated.requiresReplace).toEqual([['key_wo_version']]);
    expect(rotated.planned).toMatchObject({ key: null, start: null, key_wo: null, id: UNKNOWN });
    // Moving a key to key_wo (or back) replaces it too: the consumer must get the key keyward holds.
    const adopting = { ...(prior as object), key_wo_version: null } as never;
    expect(planApiKey(adopting, proposed('1'), proposed('1'), Buffer.alloc(0)).requiresReplace).toEqual([
      ['key_wo_version'],
    ]);
  });
});

describe("the server's refusals of key_wo", () => {
  it('become diagnostics on key_wo; other errors are left alone', () => {
    const invalid = new KeywardValidationError('bad', 'KW_ERR_VALIDATION', 'req_1', [
      { path: 'body.key', message: 'has a wrong checksum' },
    ]);
    expect(keyWoDiagnostic(invalid)).toMatchObject({
      detail: 'key_wo: has a wrong checksum',
      attribute: { steps: [{ attribute_name: 'key_wo' }] },
    });
    const conflict = new KeywardConflictError('body.key is already in use', 409, 'KW_ERR_CONFLICT', 'req_2');
    expect(keyWoDiagnostic(conflict)).toMatchObject({
      summary: 'key_wo is already in use',
      attribute: { steps: [{ attribute_name: 'key_wo' }] },
    });
    expect(keyWoDiagnostic(new KeywardConflictError('again', 409, 'KW_ERR_IDEMPOTENCY_MISMATCH', null))).toBeNull();
    expect(keyWoDiagnostic(new KeywardError('down', 0, 'KW_ERR_NETWORK', null))).toBeNull();
  });
});

describe('keyward_key_material', () => {
  it('opens a fresh, well-formed key for the environment each time (live by default)', () => {
    const first = openKeyMaterial({ environment: null });
    const second = openKeyMaterial({ environment: null });
    expect(first.environment).toBe('live');
    expect(parseKey(String(first.key))).toEqual({ tag: 'live' });
    expect(first.key).not.toBe(second.key);
    expect(parseKey(String(openKeyMaterial({ environment: 'test' }).key))).toEqual({ tag: 'test' });
    expect(openKeyMaterial({ environment: UNKNOWN })).toEqual({ environment: UNKNOWN, key: UNKNOWN });
  });

  it('refuses an environment keyward does not have, naming it', () => {
    expect(validateKeyMaterialConfig({ environment: 'live' })).toEqual([]);
    const diagnostics = validateKeyMaterialConfig({ environment: 'prod' });
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]!.detail).toMatch(/^environment: /);
    expect(paths(diagnostics)).toEqual([[{ attribute_name: 'environment' }]]);
  });
});
