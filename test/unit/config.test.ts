import { loadConfig } from '../../server/config';

describe('configuration', () => {
  it('has working defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 7070,
      host: '127.0.0.1',
      callRetentionDays: 7,
      trustedProxies: [],
      verifyCacheMaxKeys: 100_000,
    });
    expect(config.dataDir).toMatch(/\.keyward$/);
  });

  it('reads the environment, and flags override it', () => {
    const config = loadConfig(
      { KEYWARD_PORT: '9000', KEYWARD_TRUSTED_PROXIES: '10.0.0.0/8, ::1', DATABASE_URL: 'postgres://u@h/db' },
      { port: 9100 },
    );
    expect(config).toMatchObject({
      port: 9100,
      trustedProxies: ['10.0.0.0/8', '::1/128'],
      databaseUrl: 'postgres://u@h/db',
    });
  });

  it('names every bad variable and never echoes the pepper', () => {
    expect(() =>
      loadConfig({
        KEYWARD_PORT: 'http',
        KEYWARD_PEPPER: 'short-secret-value',
        KEYWARD_TRUSTED_PROXIES: '10.0.0.0/8,bogus',
        KEYWARD_VERIFY_CACHE_MAX_KEYS: '0',
      }),
    ).toThrow(
      /KEYWARD_PORT[\s\S]*KEYWARD_PEPPER: must be at least 32 characters[\s\S]*KEYWARD_TRUSTED_PROXIES\[1\][\s\S]*KEYWARD_VERIFY_CACHE_MAX_KEYS: Too small/,
    );
    try {
      loadConfig({ KEYWARD_PEPPER: 'short-secret-value' });
    } catch (error) {
      expect((error as Error).message).not.toContain('short-secret-value');
    }
  });
});
