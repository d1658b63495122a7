/**
 * `npm run token -- --sub ID --org ORG --roles R1,R2 [--ttl 1h]`: prints a signed token for the
 * running configuration (JWT_SECRET, or the embedded secret under DATA_DIR; the store is not opened).
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config.ts';
import { ROLES, type Role } from '../../core/identity.ts';
import { embeddedTokenSecret } from '../runtime.ts';
import { signToken } from '../auth/token-signer.ts';

function fail(message: string): never {
  process.stderr.write(`${message}\nusage: npm run token -- --sub ID --org ORG --roles R1,R2 [--ttl 1h]\n`);
  process.exit(2);
}

try {
  const { values } = parseArgs({
    options: { sub: { type: 'string' }, org: { type: 'string' }, roles: { type: 'string' }, ttl: { type: 'string', default: '1h' } },
    strict: true,
  });
  if (!values.sub) fail('--sub is required');
  if (!values.org) fail('--org is required');
  if (!values.roles) fail('--roles is required');
  const roles = values.roles.split(',').map((r) => r.trim()).filter(Boolean);
  const unknown = roles.filter((r) => !ROLES.includes(r as Role));
  if (unknown.length > 0) fail(`unknown role(s): ${unknown.join(', ')} (known: ${ROLES.join(', ')})`);
  if (!/^\d+[smhd]$/.test(values.ttl!)) fail('--ttl must look like 30m, 1h, 8h or 7d');
  const config = loadConfig();
  if (config.jwt.jwksUrl) fail('this gateway trusts an identity provider (JWT_JWKS_URL); get tokens from it');
  const secret = config.jwt.secret ?? embeddedTokenSecret(config.dataDir, true)!;
  process.stdout.write(`${await signToken(secret, { sub: values.sub, org: values.org, roles: roles as Role[] }, values.ttl)}\n`);
} catch (error) {
  if (error instanceof ConfigError) fail(error.message);
  fail(error instanceof Error ? error.message : String(error));
}
