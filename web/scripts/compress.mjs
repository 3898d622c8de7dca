// compress.mjs: after `vite build`, write NAME.gz beside each text file of dist/ that gzip
// makes smaller. sovd sends the .gz variant (Content-Encoding: gzip) to browsers that accept
// gzip, so nothing is compressed per request. Each .gz keeps its file's mtime: sovd serves a
// variant only when it is at least as new as its file (a stale one would be an old build).
import { readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync, constants } from 'node:zlib';

const dist = process.argv[2] ?? fileURLToPath(new URL('../dist', import.meta.url));
const TEXT = /\.(html|js|mjs|css|svg|json|map|txt|webmanifest)$/;

function* files(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* files(p);
    else if (e.isFile()) yield p;
  }
}

let raw = 0;
let packed = 0;
let n = 0;
for (const p of files(dist)) {
  if (!TEXT.test(p)) continue;
  const data = readFileSync(p);
  const gz = gzipSync(data, { level: constants.Z_BEST_COMPRESSION });
  if (gz.length >= data.length) continue;
  writeFileSync(p + '.gz', gz);
  const st = statSync(p);
  utimesSync(p + '.gz', st.atime, st.mtime);
  raw += data.length;
  packed += gz.length;
  n++;
}
console.log(`compress: ${n} files in ${relative(process.cwd(), dist) || '.'}, ` +
  `${(raw / 1024).toFixed(1)} KB -> ${(packed / 1024).toFixed(1)} KB gzipped`);
