// size.mjs: the JavaScript and CSS the first page loads (what dist/index.html names: its
// module script, module preloads and stylesheets; not the pages' lazy chunks), raw and
// gzipped. Fails above the budget (150 KB gzipped; SOV_WEB_SIZE_BUDGET_KB overrides it).
//   node scripts/size.mjs [dist]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync, constants } from 'node:zlib';

const dist = process.argv[2] ?? fileURLToPath(new URL('../dist', import.meta.url));
const budgetKB = Number(process.env.SOV_WEB_SIZE_BUDGET_KB ?? 150);
const html = readFileSync(join(dist, 'index.html'), 'utf8');

const urls = new Set();
for (const m of html.matchAll(/<script\b[^>]*\bsrc="([^"]+)"/g)) urls.add(m[1]);
for (const m of html.matchAll(/<link\b[^>]*>/g)) {
  const tag = m[0];
  const href = /\bhref="([^"]+)"/.exec(tag)?.[1];
  if (href && /\brel="(stylesheet|modulepreload)"/.test(tag)) urls.add(href);
}
if (urls.size === 0) {
  console.error('size: dist/index.html loads no script or stylesheet: is it a build?');
  process.exit(1);
}

const rows = [];
for (const url of urls) {
  if (/^(https?:)?\/\//.test(url) || url.startsWith('data:')) {
    console.error(`size: ${url} is not served by sovd (the CSP would refuse it)`);
    process.exit(1);
  }
  const file = join(dist, url.replace(/^\/console\//, '').replace(/^\//, ''));
  const data = readFileSync(file);
  const gz = gzipSync(data, { level: constants.Z_BEST_COMPRESSION }).length;
  rows.push({ url, raw: data.length, gz });
}

const kb = (n) => (n / 1024).toFixed(1).padStart(7) + ' KB';
let raw = 0;
let gz = 0;
for (const r of rows) {
  raw += r.raw;
  gz += r.gz;
  console.log(`${kb(r.raw)} raw ${kb(r.gz)} gzip  ${r.url}`);
}
const kind = (ext) => rows.filter((r) => r.url.endsWith(ext)).reduce((s, r) => s + r.gz, 0);
console.log(`first page: JS ${kb(kind('.js')).trim()} + CSS ${kb(kind('.css')).trim()} gzipped;` +
  ` total ${kb(raw).trim()} raw, ${kb(gz).trim()} gzipped (budget ${budgetKB} KB)`);
if (gz > budgetKB * 1024) {
  console.error(`size: the first page is ${(gz / 1024).toFixed(1)} KB gzipped, over ${budgetKB} KB`);
  process.exit(1);
}
