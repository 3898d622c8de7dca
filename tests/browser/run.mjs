// run.mjs: the web console's browser suite. Debian's Chromium, driven by playwright-core (from
// web/node_modules), against a real sovd that tests/e2e/browser_test.c started and filled
// (region, host, flavor, image, tenants A and B). It walks the issue's scenarios as a person
// would, finding things by role and accessible name; on every page it saves a screenshot,
// runs axe-core (no serious or critical violation) and fails on any console error, page
// error or Content-Security-Policy violation. Prints the first load to interactive and,
// last, "N passed, M failed". Exit status 0 only when none failed.
//
// Environment (the launcher sets it): SOV_BROWSER_URL (http://127.0.0.1:PORT), _CHROMIUM,
// _ARTIFACTS (screenshots go there), _OPERATOR_TOKEN, _A_TOKEN and _B_TOKEN (admins of tenants
// A and B), _A_TENANT, _REGION, _ZONE, _FLAVOR, _IMAGE, _HOST_URI (a libvirt test-driver host
// for the operator to add), _UPLOAD_FILE (an image file to upload), _OVN ("off": sovd has no
// OVN, so the tenant network routes answer 503); _ONLY: a comma-separated list of scenarios
// to run (default: all).
import { createRequire } from 'node:module';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(join(root, 'web', 'package.json'));
const { chromium } = require('playwright-core');
const axeSource = readFileSync(join(root, 'web', 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');

const env = (name, fallback) => {
  const v = process.env[`SOV_BROWSER_${name}`] ?? fallback;
  if (v === undefined) throw new Error(`SOV_BROWSER_${name} is not set`);
  return v;
};
const BASE = env('URL').replace(/\/$/, '');
const ART = env('ARTIFACTS');
const ONLY = (process.env.SOV_BROWSER_ONLY ?? '').split(',').filter(Boolean);
const WIDE = { width: 1280, height: 800 };
const NARROW = { width: 390, height: 844 };
const NO_OVN = process.env.SOV_BROWSER_OVN === 'off';
const NETWORK_ROUTES = /\/v1\/(networks|subnets|ports|security-groups|routers|public-ips|public-ip-pools)([/?]|$)/;
const SLOW = 150_000;   // an instance under TCG on a busy machine
mkdirSync(ART, { recursive: true });

const shared = {};      // what one scenario leaves for the next (A's instance)

/* ---- a page with its checks ---- */

class Check {
  constructor(name, page, viewport) {
    this.name = name;
    this.page = page;
    this.viewport = viewport;
    this.errors = [];
    this.allowed = [];      // console errors a scenario expects (a 404 it provokes)
    this.shots = 0;
    page.on('console', (m) => {
      if (m.type() !== 'error' || this.allowed.some((re) => re.test(m.text()))) return;
      // Without OVN, sovd answers the tenant network routes 503 (the pages show why), and
      // Chromium logs every such answer: those, and only those, are expected.
      if (NO_OVN && /status of 503/.test(m.text()) && NETWORK_ROUTES.test(m.location()?.url ?? ''))
        return;
      this.errors.push(`console error: ${m.text()} (${m.location()?.url ?? ''})`);
    });
    page.on('pageerror', (e) => this.errors.push(`page error: ${e.message}`));
  }

  /* After a page is shown (its one h1 visible): screenshot, axe, and the errors so far. */
  async visited(label) {
    const page = this.page;
    await page.locator('h1').first().waitFor({ state: 'visible' });
    const h1s = await page.locator('h1').count();
    if (h1s !== 1) throw new Error(`${label}: ${h1s} h1 elements, want one`);
    const file = join(ART, `${this.name}-${String(++this.shots).padStart(2, '0')}-${label}` +
      `${this.viewport === NARROW ? '-narrow' : ''}.png`);
    await page.screenshot({ path: file, fullPage: true });
    await page.evaluate(axeSource + '\n;0');
    const violations = await page.evaluate(async () => {
      const r = await window.axe.run(document, { resultTypes: ['violations'] });
      return r.violations
        .filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.slice(0, 3)
          .map((n) => n.target.join(' ')).join('; ')})`);
    });
    if (violations.length) throw new Error(`${label}: axe found\n    ${violations.join('\n    ')}`);
    if (this.viewport === NARROW) {
      const overflow = await page.evaluate(() =>
        document.scrollingElement.scrollWidth - document.scrollingElement.clientWidth);
      if (overflow > 1) throw new Error(`${label}: ${overflow} px wider than the 390 px screen`);
    }
    this.assertClean(label);
  }

  assertClean(label) {
    if (this.errors.length) throw new Error(`${label}:\n    ${this.errors.join('\n    ')}`);
  }
}

let browser;
async function open(name, { token, viewport = WIDE } = {}) {
  const context = await browser.newContext({ viewport, acceptDownloads: true });
  // CSP violations as console errors, whatever the browser logs by itself.
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) =>
      console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || 'inline'}`));
  });
  if (token)
    await context.addInitScript((t) => sessionStorage.setItem('sov.token', t), token);
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  const check = new Check(name, page, viewport);
  check.context = context;
  return check;
}

const heading = (page, name) => page.getByRole('heading', { level: 1, name });
async function go(c, path, h1, label) {
  await c.page.goto(BASE + path);
  await heading(c.page, h1).waitFor();
  await c.visited(label);
}

/* Pick the option of the select labelled label whose text holds text (a select may show
 * "small (1 vCPU, 128 MiB)" for "small"), or type it where the field is a text box. */
async function choose(scope, label, text) {
  const field = scope.getByLabel(label, { exact: true });
  await field.waitFor();
  if (await field.evaluate((el) => el.tagName !== 'SELECT')) {
    const radio = scope.getByRole('radio', { name: new RegExp(text) });
    if (await radio.count()) return radio.first().check();
    return field.fill(text);
  }
  const value = await field.evaluate((el, t) =>
    ([...el.options].find((o) => o.value === t) ?? [...el.options].find((o) => o.textContent.trim() === t) ??
      [...el.options].find((o) => o.value !== '' && o.textContent.includes(t)))?.value, text);
  if (value === undefined) throw new Error(`${label}: no option '${text}'`);
  await field.selectOption(value);
}

/* ---- the scenarios ---- */

const scenarios = [];
const scenario = (name, fn) => scenarios.push({ name, fn });

scenario('login-keyboard', async () => {
  const c = await open('login');
  const { page } = c;
  // sovd redirects / to /console/, and serves the page under its Content-Security-Policy
  // (so every page of the suite runs under it), and the scripts gzipped.
  const scripts = [];
  page.on('response', (r) => { if (/\/console\/assets\/.*\.js$/.test(r.url())) scripts.push(r); });
  const resp = await page.goto(BASE + '/');
  await heading(page, 'sovereign').waitFor();
  if (!page.url().endsWith('/console/')) throw new Error(`/ went to ${page.url()}`);
  const csp = (await resp.allHeaders())['content-security-policy'] ?? '';
  if (!csp.includes("script-src 'self'") || !csp.includes("frame-ancestors 'none'"))
    throw new Error(`the console came without its CSP: '${csp}'`);
  if (scripts.length === 0 || !(await Promise.all(scripts.map((r) => r.allHeaders())))
    .every((h) => h['content-encoding'] === 'gzip' && /immutable/.test(h['cache-control'] ?? '')))
    throw new Error('the console\'s scripts did not come gzipped and immutable');
  await c.visited('login');
  // Keyboard only: Tab to the token field, type it, Enter.
  const token = page.getByLabel('API token');
  for (let i = 0; i < 10 && !(await token.evaluate((el) => el === document.activeElement)); i++)
    await page.keyboard.press('Tab');
  if (!(await token.evaluate((el) => el === document.activeElement)))
    throw new Error('Tab never reached the "API token" field');
  await page.keyboard.type(env('OPERATOR_TOKEN'));
  await page.keyboard.press('Enter');
  await heading(page, 'Overview').waitFor();
  await c.visited('overview');
  // Signed in for this tab: a reload keeps the session; "Sign out" ends it.
  await page.reload();
  await heading(page, 'Overview').waitFor();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await heading(page, 'sovereign').waitFor();
  c.assertClean('sign out');
  await c.context.close();
});

scenario('first-load', async () => {
  // Navigation start to the overview's h1 visible, sovd warm (one load before), cache cold.
  let ms = 0;
  for (let i = 0; i < 2; i++) {
    const c = await open('first-load', { token: env('OPERATOR_TOKEN') });
    await c.page.goto(BASE + '/console/');
    await heading(c.page, 'Overview').waitFor();
    ms = await c.page.evaluate(() => performance.now());
    c.assertClean('overview');
    await c.context.close();
  }
  console.log(`first load to interactive: ${Math.round(ms)} ms (target <= 1000 ms)`);
});

scenario('operator-region-and-host', async () => {
  const c = await open('operator', { token: env('OPERATOR_TOKEN') });
  const { page } = c;
  const code = `de-bro-${process.pid % 1000}`;
  await go(c, '/console/operator/regions', 'Regions', 'regions');
  await page.getByRole('button', { name: 'Add region' }).click();
  const rf = page.getByRole('form', { name: 'Add a region' });
  await rf.getByLabel('Code').fill(code);
  await rf.getByLabel('Name', { exact: true }).fill('Browser Frankfurt 1');
  await rf.getByLabel('Country').fill('DE');
  await rf.getByLabel('Datacenter').fill('dc-browser');
  await rf.getByLabel('Zones').fill('a');
  await rf.getByRole('button', { name: 'Create region' }).click();
  await page.getByRole('cell', { name: code, exact: true }).waitFor();
  await c.visited('region-added');

  // A dialog by keyboard alone: Enter opens it, focus is inside, Escape closes it; opened
  // again, the name is typed and Enter saves it.
  const edit = page.getByRole('button', { name: `Edit region ${code}` });
  const dialog = page.getByRole('dialog', { name: `Edit region ${code}` });
  await edit.focus();
  await page.keyboard.press('Enter');
  await dialog.waitFor();
  await c.visited('edit-region-dialog');
  if (!(await dialog.evaluate((d) => d.contains(document.activeElement))))
    throw new Error('the dialog opened without the focus in it');
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });
  await edit.focus();
  await page.keyboard.press('Enter');
  await dialog.waitFor();
  const nameField = dialog.getByLabel('Name', { exact: true });
  for (let i = 0; i < 10 && !(await nameField.evaluate((el) => el === document.activeElement)); i++)
    await page.keyboard.press('Tab');
  await page.keyboard.press('Control+A');
  await page.keyboard.type('Browser Frankfurt');
  await page.keyboard.press('Enter');
  await dialog.waitFor({ state: 'hidden' });
  await page.getByRole('cell', { name: 'Browser Frankfurt', exact: true }).waitFor();

  const host = `browser-host-${process.pid % 1000}`;
  await go(c, '/console/operator/hosts', 'Hosts', 'hosts');
  await page.getByRole('button', { name: 'Add host' }).click();
  const hf = page.getByRole('form', { name: 'Add a host' });
  await hf.getByLabel('Name', { exact: true }).fill(host);
  await choose(hf, 'Region', code);
  await choose(hf, 'Zone', 'a');
  await hf.getByLabel('libvirt URI').fill(env('HOST_URI'));
  await hf.getByRole('button', { name: 'Add host' }).click();
  await hf.getByText(`Host ${host} is registered.`).waitFor({ timeout: 60_000 });
  const row = page.getByRole('row').filter({ has: page.getByRole('link', { name: host, exact: true }) });
  await row.getByText('up', { exact: true }).waitFor({ timeout: 30_000 });
  await c.visited('host-added');
  await row.getByRole('link', { name: host, exact: true }).click();
  await heading(page, `Host ${host}`).waitFor();
  await c.visited('host-detail');
  await go(c, '/console/operator/flavors', 'Flavors', 'flavors');
  await go(c, '/console/operator/tenants', 'Tenants', 'tenants');
  await page.getByRole('link', { name: 'acme', exact: true }).click();
  await heading(page, /^Tenant /).waitFor();
  await c.visited('tenant-detail');
  await c.context.close();
});

scenario('tenant-create-instance', async () => {
  const c = await open('tenant-a', { token: env('A_TOKEN') });
  const { page } = c;
  await go(c, '/console/', 'Overview', 'overview');
  await go(c, '/console/instances', 'Instances', 'instances');
  await go(c, '/console/instances/new', 'Create an instance', 'wizard');
  const name = 'web-1';
  await page.getByLabel('Name', { exact: true }).fill(name);
  await choose(page, 'Flavor', env('FLAVOR'));
  await choose(page, 'Image', env('IMAGE'));
  await choose(page, 'Region', env('REGION'));
  await choose(page, 'Zone', env('ZONE'));
  await page.getByRole('button', { name: 'Create instance' }).click();
  await heading(page, `Creating ${name}`).waitFor();
  await c.visited('creating');
  await page.waitForURL(/\/console\/instances\/[0-9a-f-]{36}$/, { timeout: SLOW });
  shared.instanceUrl = new URL(page.url()).pathname;
  shared.instanceName = name;
  await heading(page, name).waitFor();
  await page.locator('.page-head').getByText('running', { exact: true }).waitFor({ timeout: SLOW });
  await c.visited('instance-running');
  for (const [path, h1] of [['/console/users', 'Users and tokens'], ['/console/audit', 'Audit log'],
    ['/console/networks', 'Networks'], ['/console/volumes', 'Volumes']])
    await go(c, path, h1, path.split('/').pop());
  await c.context.close();
});

scenario('serial-console', async () => {
  if (!shared.instanceUrl) throw new Error('no instance: tenant-create-instance failed');
  const c = await open('console', { token: env('A_TOKEN') });
  const { page } = c;
  await page.goto(BASE + shared.instanceUrl);
  await heading(page, shared.instanceName).waitFor();
  await page.getByRole('heading', { name: 'Serial console' }).waitFor();
  await page.getByRole('button', { name: 'Open console' }).click();
  await page.locator('.xterm').waitFor();
  try {
    await page.getByRole('status').filter({ hasText: /^\s*Connected\s*$/ }).waitFor({ timeout: 30_000 });
  } catch {
    throw new Error(`the serial console did not connect: ${await page.locator('.serial-status').textContent()}`);
  }
  // The guest's shell answers once it has booted: type until a line says hello-console.
  // xterm draws on a canvas; its screen-reader tree holds the text.
  const answered = () => page.evaluate(() =>
    [...document.querySelectorAll('.xterm-accessibility-tree > div, .xterm-rows > div')]
      .some((d) => (d.textContent ?? '').trim() === 'hello-console'));
  const deadline = Date.now() + SLOW;
  let seen = false;
  while (!seen && Date.now() < deadline) {
    await page.locator('.xterm').click();
    await page.keyboard.type('echo hello-console\n');
    for (let i = 0; i < 20 && !seen; i++) {
      seen = await answered();
      if (!seen) await page.waitForTimeout(250);
    }
  }
  if (!seen)
    throw new Error(`no hello-console answer; the terminal shows:\n${
      await page.locator('.xterm').textContent()}`);
  await c.visited('serial-console');
  await c.context.close();
});

scenario('image-upload', async () => {
  const c = await open('images', { token: env('A_TOKEN') });
  const { page } = c;
  await go(c, '/console/images', 'Images', 'images');
  // A slow link, so the progress bar has time to be seen (Chromium's own throttling).
  const cdp = await c.context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions',
    { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 2 * 1024 * 1024 });
  await page.getByLabel('Image file').setInputFiles(env('UPLOAD_FILE'));
  await page.getByLabel('Name', { exact: true }).fill('uploaded-1');
  await choose(page, 'Region', env('REGION'));
  await choose(page, 'Format', 'qcow2');
  await page.getByRole('button', { name: 'Upload image' }).click();
  const bar = page.getByRole('progressbar', { name: 'Upload progress' });
  await bar.waitFor();
  await c.visited('upload-progress');
  await bar.waitFor({ state: 'detached', timeout: 60_000 });
  await cdp.send('Network.emulateNetworkConditions',
    { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  await page.getByRole('row').filter({ hasText: 'uploaded-1' }).getByText('active', { exact: true })
    .waitFor({ timeout: 60_000 });
  await c.visited('uploaded');
  await c.context.close();
});

scenario('compliance-report', async () => {
  const c = await open('compliance', { token: env('A_TOKEN') });
  const { page } = c;
  await go(c, '/console/compliance', 'Data residency', 'compliance');
  await page.getByRole('button', { name: 'Generate report' }).click();
  const verify = page.getByRole('button', { name: 'Verify signature' });
  await verify.waitFor({ timeout: 60_000 });
  await verify.click();
  await page.getByText('Signature valid', { exact: true }).waitFor({ timeout: 30_000 });
  await c.visited('report-valid');
  const keyId = (await page.locator('dt:text-is("Signed with key") + dd').textContent()).trim();
  // The downloaded document with one digit changed, verified as a file: red.
  const fetchDownload = async (name) => {
    const [d] = await Promise.all([page.waitForEvent('download'),
      page.getByRole('button', { name, exact: true }).click()]);
    return { bytes: readFileSync(await d.path()), name: d.suggestedFilename() };
  };
  const doc = await fetchDownload('Download document');
  const sig = await fetchDownload('Download signature');
  const tampered = Buffer.from(doc.bytes);
  let at = tampered.length - 1;
  while (at > 0 && !(tampered[at] >= 0x30 && tampered[at] <= 0x39)) at--;
  tampered[at] = 0x30 + ((tampered[at] - 0x30 + 1) % 10);
  const docFile = join(ART, `tampered-${doc.name}`);
  const sigFile = join(ART, sig.name);
  writeFileSync(docFile, tampered);
  writeFileSync(sigFile, sig.bytes);
  const vf = page.getByRole('form', { name: 'Verify a downloaded document' });
  await vf.getByLabel('Document file').setInputFiles(docFile);
  await vf.getByLabel('Signature file').setInputFiles(sigFile);
  const key = vf.getByLabel('Signing key id');
  if (!(await key.inputValue())) await key.fill(keyId);
  await vf.getByRole('button', { name: 'Verify files' }).click();
  await vf.getByText('Signature invalid', { exact: true }).waitFor();
  await c.visited('report-tampered');
  // The untouched pair, verified the same way: green.
  const goodFile = join(ART, doc.name);
  writeFileSync(goodFile, doc.bytes);
  await vf.getByLabel('Document file').setInputFiles(goodFile);
  await vf.getByLabel('Signature file').setInputFiles(sigFile);
  if (!(await key.inputValue())) await key.fill(keyId);
  await vf.getByRole('button', { name: 'Verify files' }).click();
  await vf.getByText('Signature valid', { exact: true }).waitFor();
  c.assertClean('report-untouched');
  await c.context.close();
});

scenario('tenant-isolation', async () => {
  if (!shared.instanceUrl) throw new Error('no instance of A: tenant-create-instance failed');
  const c = await open('tenant-b', { token: env('B_TOKEN') });
  const { page } = c;
  await go(c, '/console/instances', 'Instances', 'instances');
  for (const what of [shared.instanceName, env('IMAGE')])
    if (await page.getByText(what, { exact: true }).count())
      throw new Error(`tenant B sees '${what}' of tenant A`);
  await go(c, '/console/images', 'Images', 'images');
  if (await page.getByText(env('IMAGE'), { exact: true }).count())
    throw new Error(`tenant B sees image '${env('IMAGE')}' of tenant A`);
  c.allowed.push(/status of 404/);     // A's instance, asked for by B: the API's 404
  await page.goto(BASE + shared.instanceUrl);
  await heading(page, 'Not found').waitFor();
  await c.visited('a-instance-not-found');
  await c.context.close();
});

scenario('narrow', async () => {
  const c = await open('narrow', { token: env('A_TOKEN'), viewport: NARROW });
  for (const [path, h1] of [['/console/', 'Overview'], ['/console/instances', 'Instances'],
    ['/console/compliance', 'Data residency'], ['/console/images', 'Images']])
    await go(c, path, h1, path === '/console/' ? 'overview' : path.split('/').pop());
  await c.context.close();
  const l = await open('narrow', { viewport: NARROW });
  await go(l, '/console/', 'sovereign', 'login');
  await l.context.close();
});

/* ---- run ---- */

browser = await chromium.launch({
  executablePath: env('CHROMIUM', '/usr/bin/chromium'),
  headless: true,
  args: ['--no-sandbox', '--disable-dev-shm-usage'],
});
let passed = 0;
let failed = 0;
for (const s of scenarios) {
  if (ONLY.length && !ONLY.includes(s.name)) continue;
  const t0 = Date.now();
  try {
    await s.fn();
    passed++;
    console.log(`ok   ${s.name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${s.name} (${((Date.now() - t0) / 1000).toFixed(1)} s): ${e.message}`);
    for (const ctx of browser.contexts()) {
      for (const p of ctx.pages())
        await p.screenshot({ path: join(ART, `FAIL-${s.name}.png`), fullPage: true }).catch(() => {});
      await ctx.close().catch(() => {});
    }
  }
}
await browser.close();
console.log(`screenshots in ${ART}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
