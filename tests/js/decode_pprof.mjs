// Decodes a pprof profile (gzipped or not) with the pprof-format package and prints a JSON
// summary: sample types, sample count, value totals, mappings (file, range, the addresses
// of their locations), and the leaf function:line of the heaviest sample by the first value.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { Profile } from 'pprof-format';

let bytes = readFileSync(process.argv[2]);
if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipSync(bytes);
const p = Profile.decode(bytes);
const str = (i) => p.stringTable.strings[Number(i)];
const totals = p.sampleType.map(() => 0);
let heaviest = null;
for (const s of p.sample) {
  s.value.forEach((v, i) => { totals[i] += Number(v); });
  if (!heaviest || Number(s.value[0]) > Number(heaviest.value[0])) heaviest = s;
}
const leaf = heaviest && p.location.find((l) => l.id === heaviest.locationId[0]);
const line = leaf && leaf.line[0];
const fn = line && p.function.find((f) => f.id === line.functionId);
console.log(JSON.stringify({
  sample_types: p.sampleType.map((t) => `${str(t.type)}/${str(t.unit)}`),
  samples: p.sample.length,
  totals,
  mappings: p.mapping.map((m) => str(m.filename)),
  mapping_ranges: p.mapping.map((m) => ({
    // As decimal strings: kernel addresses do not fit a double.
    start: String(m.memoryStart), limit: String(m.memoryLimit), offset: String(m.fileOffset),
    addresses: p.location.filter((l) => l.mappingId === m.id).map((l) => String(l.address)),
  })),
  heaviest_leaf: fn ? `${str(fn.name)} ${str(fn.filename)}:${Number(line.line)}` : null,
}));
