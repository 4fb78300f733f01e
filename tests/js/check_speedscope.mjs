// Validates a speedscope file against the JSON schema shipped in the speedscope package,
// then prints a JSON summary (profile type, unit, sample count, total weight).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import Ajv from 'ajv';

const require = createRequire(import.meta.url);
const schema = JSON.parse(readFileSync(require.resolve('speedscope/dist/release/file-format-schema.json'), 'utf8'));
const file = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const ajv = new Ajv({ strict: false, allErrors: true });
const valid = ajv.validate(schema, file);
const p = file.profiles[0];
console.log(JSON.stringify({
  valid,
  errors: valid ? [] : ajv.errors,
  type: p.type,
  unit: p.unit,
  samples: p.samples.length,
  total: p.weights.reduce((a, b) => a + b, 0),
}));
process.exit(valid ? 0 : 1);
