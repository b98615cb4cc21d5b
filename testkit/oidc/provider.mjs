// A real OpenID Connect provider for sohoa's tests: panva's certified oidc-provider, development
// interactions (any login name, any password; consent by one button), nothing persisted.
// Usage: node provider.mjs CONFIG.json   where CONFIG = {port, issuer, clients: [...], accounts: {id: {claims}}}
// Prints "ready <issuer>" once it listens.
import { readFileSync } from 'node:fs';
import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const accounts = config.accounts || {};

const provider = new Provider(config.issuer, {
  clients: config.clients,
  cookies: { keys: [config.cookie_key] },
  pkce: { required: () => true },
  claims: { openid: ['sub'], profile: ['name', 'preferred_username'], email: ['email'], centre: ['centre'] },
  scopes: ['openid', 'profile', 'email', 'centre'],
  conformIdTokenClaims: false, // the scope's claims in the ID token too (as many enterprise providers do)
  features: { devInteractions: { enabled: true } },
  async findAccount(ctx, id) {
    const extra = accounts[id] || {};
    return {
      accountId: id,
      async claims() {
        return { sub: id, preferred_username: id, name: id, email: `${id}@example.test`, ...extra };
      },
    };
  },
});
provider.proxy = false;

const server = provider.listen(config.port, '127.0.0.1', () => {
  console.log(`ready ${config.issuer}`);
});
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
