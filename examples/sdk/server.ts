import express from 'express';
import { Keyward } from '../../sdk';
import { keywardExpress } from '../../sdk/express';

/**
 * A small CRM API protected by keyward: each route names the scopes it needs, and keyward decides.
 *   KEYWARD_URL=http://127.0.0.1:7070 KEYWARD_ROOT_KEY=kw_root_… node dist/examples/sdk/server.js
 * (use a root key with the `verify` scope only: this service needs nothing more).
 */
export function createCrmApi(client: Keyward, options: { trustedProxies?: string[] } = {}): express.Express {
  const app = express();
  const protect = keywardExpress({ client, trustedProxies: options.trustedProxies ?? [] });
  const contacts = [
    { id: 1, name: 'Ada', team: 'emea' },
    { id: 2, name: 'Grace', team: 'amer' },
  ];

  app.get('/contacts', protect(['contacts:read']), (request, response) => {
    response.json({ contacts, caller: request.keyward?.keyId, clientIp: request.keyward?.clientIp });
  });
  app.get('/contacts/export', protect(['contacts:export']), (_request, response) => {
    response.type('text/csv').send(contacts.map((contact) => `${contact.id},${contact.name}`).join('\n'));
  });
  app.post('/email', protect(['email:send']), (_request, response) => {
    response.status(202).json({ queued: true });
  });
  app.delete('/users/:id', protect(['users:manage']), (request, response) => {
    response.json({ deleted: request.params.id });
  });
  return app;
}

if (require.main === module) {
  const baseUrl = process.env.KEYWARD_URL ?? 'http://127.0.0.1:7070';
  const rootKey = process.env.KEYWARD_ROOT_KEY;
  if (!rootKey) throw new Error('set KEYWARD_ROOT_KEY to a root key with the verify scope');
  const port = Number(process.env.PORT ?? 3000);
  createCrmApi(new Keyward({ baseUrl, rootKey })).listen(port, '127.0.0.1', () =>
    process.stdout.write(`CRM API on http://127.0.0.1:${port}\n`),
  );
}
