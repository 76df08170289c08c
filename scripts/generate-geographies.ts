// Builds src/azure/geographies.json, the project's one region/geography catalogue, from the
// project's transcription of Azure's published region list (test/fixtures/SOURCES.md says where it
// comes from), keeping each region's restricted-access and coming-soon flags. Run: npx node scripts/generate-geographies.ts [FIXTURE]
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface FixtureRegion {
  name: string;
  displayName: string;
  geography: string;
  restrictedAccess: boolean;
  comingSoon: boolean;
}

const fixture = process.argv[2] ?? fileURLToPath(new URL('../test/fixtures/azure-geographies.json', import.meta.url));
const source = JSON.parse(readFileSync(fixture, 'utf8')) as { regions: FixtureRegion[] };

const regions = source.regions
  .map(({ name, displayName, geography, restrictedAccess, comingSoon }) => ({ name, displayName, geography, restrictedAccess, comingSoon }))
  .sort((a, b) => a.name.localeCompare(b.name));

const output = fileURLToPath(new URL('../src/azure/geographies.json', import.meta.url));
writeFileSync(output, `${JSON.stringify({ regions }, null, 2)}\n`);
console.log(`wrote ${regions.length} regions to ${output}`);
