import { AUDIT_GENESIS_HASH, type AuditEntry, auditEntryHash, canonicalJson, verifyAuditChain } from '../../schema';

function chain(length: number): AuditEntry[] {
  const entries: AuditEntry[] = [];
  let prevHash = AUDIT_GENESIS_HASH;
  for (let seq = 1; seq <= length; seq += 1) {
    const unsigned = {
      seq,
      at: new Date(1_700_000_000_000 + seq * 1000).toISOString(),
      workspaceId: 'ws_default',
      actorKeyId: 'rk_1',
      action: 'key.update' as const,
      targetKeyId: `key_${seq}`,
      changes: { fields: ['name'], after: { name: `n${seq}`, nested: { b: 1, a: 2 } } },
      ip: '127.0.0.1',
      userAgent: 'test',
      requestId: `req_${seq}`,
      prevHash,
    };
    const entry = { id: `aud_${seq}`, ...unsigned, hash: auditEntryHash(unsigned) };
    entries.push(entry);
    prevHash = entry.hash;
  }
  return entries;
}

describe('audit hash chain', () => {
  it('accepts an intact chain', () => {
    expect(verifyAuditChain(chain(5))).toMatchObject({ ok: true, checked: 5 });
  });

  it('does not depend on the order a store returns object keys in', () => {
    expect(canonicalJson({ b: 1, a: [{ d: 1, c: 2 }] })).toBe(canonicalJson({ a: [{ c: 2, d: 1 }], b: 1 }));
  });

  it('names the first edited, reordered, or missing entry', () => {
    const edited = chain(5);
    edited[2] = { ...edited[2]!, ip: '10.0.0.1' };
    expect(verifyAuditChain(edited)).toMatchObject({
      ok: false,
      brokenAt: { id: 'aud_3', reason: 'contents do not match the stored hash' },
    });

    const missing = chain(5);
    missing.splice(1, 1);
    expect(verifyAuditChain(missing)).toMatchObject({ ok: false, brokenAt: { id: 'aud_3', seq: 3 } });

    const swapped = chain(4);
    [swapped[1], swapped[2]] = [swapped[2]!, swapped[1]!];
    expect(verifyAuditChain(swapped)).toMatchObject({ ok: false, brokenAt: { id: 'aud_3' } });

    const forged = chain(3);
    const rehashed = { ...forged[1]!, changes: { fields: ['scopes'] } };
    forged[1] = { ...rehashed, hash: auditEntryHash(rehashed) };
    expect(verifyAuditChain(forged)).toMatchObject({
      ok: false,
      brokenAt: { id: 'aud_3', reason: 'prevHash does not match the previous entry' },
    });
  });
});
