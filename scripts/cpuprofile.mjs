// Summarises a V8 .cpuprofile (Chromium DevTools' format, as written by
// the e2e tests with E2E_PROFILE=dir): the functions with the most self
// time and their share of the samples.
//
//   node scripts/cpuprofile.mjs file.cpuprofile [top]
import { readFileSync } from 'node:fs';

const [file, top = '25'] = process.argv.slice(2);
const prof = JSON.parse(readFileSync(file, 'utf8'));
const nodes = new Map(prof.nodes.map((n) => [n.id, n]));
const self = new Map();
const deltas = prof.timeDeltas || [];
let total = 0;
prof.samples.forEach((id, i) => {
  const dt = deltas[i + 1] ?? 0;
  const n = nodes.get(id);
  const f = n.callFrame;
  const url = f.url ? f.url.replace(/^.*\//, '') : '';
  const key = `${f.functionName || '(anonymous)'} ${url}${url ? ':' + (f.lineNumber + 1) : ''}`;
  self.set(key, (self.get(key) || 0) + dt);
  total += dt;
});
console.log(`${(total / 1000).toFixed(0)} ms sampled`);
for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(top))) {
  console.log(`${(v / 1000).toFixed(1).padStart(9)} ms ${((100 * v) / total).toFixed(1).padStart(5)} %  ${k}`);
}
