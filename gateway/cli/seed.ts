/**
 * `npm run seed -- --persons N`: (re)loads deterministic synthetic data of that size into the
 * configured sources (the embedded demo sources by default).
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config.ts';
import { openDatabases } from '../store/databases.ts';
import { seedSources } from '../../demo/seed-sources.ts';
import { gatewayHolding } from './data-dir-lock.ts';

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { persons: { type: 'string', default: '5000' }, seed: { type: 'string' } }, strict: true });
  const persons = Number(values.persons);
  if (!Number.isInteger(persons) || persons < 1 || persons > 50_000_000) {
    process.stderr.write('--persons must be a whole number from 1 to 50000000\n');
    return 2;
  }
  const config = loadConfig();
  const usesEmbedded = !config.sources.populationUrl || !config.sources.housingUrl || !config.sources.socialSecurityDatabaseUrl;
  const holder = usesEmbedded ? gatewayHolding(config.dataDir) : undefined;
  if (holder) {
    process.stderr.write(`the gateway (pid ${holder}) has ${config.dataDir} open; stop it first, then seed\n`);
    return 2;
  }
  if (config.sources.socialSecurityUrl && !config.sources.socialSecurityDatabaseUrl) {
    process.stderr.write('SOCIAL_SECURITY_URL points at an external API: set SOCIAL_SECURITY_DATABASE_URL to seed its demo database\n');
    return 2;
  }
  const databases = await openDatabases(config);
  try {
    const started = Date.now();
    const result = await seedSources(
      { population: databases.population, housing: databases.housing, socialSecurity: databases.socialSecurity! },
      {
        persons,
        seed: values.seed ? Number(values.seed) : undefined,
        onProgress: (done) => process.stderr.write(`\r  ${done.toLocaleString('en')} / ${persons.toLocaleString('en')} persons`),
      },
    );
    process.stderr.write('\n');
    process.stdout.write(
      `loaded ${result.persons} persons, ${result.houses} houses, ${result.accounts} social-security accounts in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
    );
    return 0;
  } finally {
    await databases.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`${error instanceof ConfigError ? error.message : `seed failed: ${(error as Error).message}`}\n`);
    process.exit(error instanceof ConfigError ? 2 : 1);
  },
);
