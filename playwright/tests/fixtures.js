// Test fixtures: every test gets its own berth (a fresh data directory, a free port on 127.0.0.1), and fails
// on any uncaught page error (that is how a broken WASM module shows up).
const { test: base, expect } = require('@playwright/test');
const { execFileSync, spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const zlib = require('node:zlib');

const { freePort } = require('../fixtures/free-port');

const ROOT = path.resolve(__dirname, '..', '..');
const ADMIN_USER = 'admin';
const ADMIN_PASSWORD = 'Admin12345';
const SCREENSHOTS = path.join(__dirname, '..', 'artifacts', 'screenshots');

/// The binary under test: $BERTH_BIN (scripts/test.sh sets it), else the newest of the debug and release builds.
function berthBinary() {
  if (process.env.BERTH_BIN) return path.resolve(process.env.BERTH_BIN);
  const candidates = ['debug', 'release']
    .map((profile) => path.join(ROOT, 'target', profile, 'berth'))
    .filter((file) => fs.existsSync(file))
    .sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
  if (candidates.length === 0) throw new Error('no berth binary: run cargo build -p berth first');
  return candidates[0];
}

async function waitUntilUp(url, child, log) {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`berth exited with ${child.exitCode}:\n${log()}`);
    try {
      const response = await fetch(`${url}/api/v2.0/ping`);
      if (response.ok) return;
    } catch (_) {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`berth did not start within 20 s:\n${log()}`);
}

const test = base.extend({
  /// Extra environment of the berth a test starts (`test.use({ berthEnv: { BERTH_SCAN__ADAPTER_API_KEY: … } })`).
  berthEnv: [{}, { option: true }],

  /// A running berth: { url, dataDir }.
  berth: async ({ berthEnv }, use) => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-e2e-'));
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    let output = '';
    // Run in the data directory, so no ./berth.toml of the developer's is read.
    const child = spawn(berthBinary(), ['serve'], {
      cwd: dataDir,
      env: {
        ...process.env,
        ...berthEnv,
        BERTH_ADMIN_PASSWORD: ADMIN_PASSWORD,
        BERTH_DATA_DIR: path.join(dataDir, 'data'),
        BERTH_LISTEN: `127.0.0.1:${port}`,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (d) => { output += d; });
    child.stderr.on('data', (d) => { output += d; });
    try {
      await waitUntilUp(url, child, () => output);
      await use({ url, dataDir });
    } finally {
      const exited = new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  },

  /// The page, pointed at this test's berth, failing the test on any uncaught error in the page.
  /// Also fails it on any Content-Security-Policy violation (the console is served with a strict policy).
  page: async ({ page, berth }, use, testInfo) => {
    const errors = [];
    const violations = [];
    page.on('pageerror', (error) => errors.push(error));
    page.on('console', (message) => {
      if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) {
        violations.push(message.text());
      }
    });
    await page.exposeFunction('__berthCspViolation', (v) => violations.push(v));
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => {
        window.__berthCspViolation(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'} in ${e.sourceFile || e.documentURI}`);
      });
    });
    await use(page);
    // A test that provokes an error on purpose names it in `page.allowedErrors` (a list of regular expressions).
    const unexpected = errors.filter((e) => !(page.allowedErrors || []).some((r) => r.test(String(e))));
    expect(unexpected, `uncaught errors in the page of "${testInfo.title}"`).toEqual([]);
    expect(violations, `Content-Security-Policy violations in "${testInfo.title}"`).toEqual([]);
  },

  baseURL: async ({ berth }, use) => {
    await use(berth.url);
  },
});

/// Signs in through the form.
async function signIn(page, user = ADMIN_USER, password = ADMIN_PASSWORD) {
  await page.goto('/account/sign-in');
  await page.getByLabel('Username').fill(user);
  await page.getByLabel('Password').fill(password);
  // Wait for the sign-in to finish: a test that navigates right after the click could otherwise leave before the
  // session cookie arrives, and land on the sign-in page again. A refused sign-in stays on the page.
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/c/login') && r.request().method() === 'POST'),
    page.getByRole('button', { name: 'Log In' }).click(),
  ]);
  if (response.ok()) {
    await page.waitForURL((url) => !url.pathname.startsWith('/account/sign-in'));
  }
}

/// The `Authorization` header of Basic credentials.
function basicAuth(user, password) {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

/// A REST call to `/api/v2.0` as `user` (the admin by default) with Basic credentials; fails the test on an
/// error status and returns the parsed JSON body (or null).
async function rest(berth, method, path, body, user = ADMIN_USER, password = ADMIN_PASSWORD) {
  const response = await fetch(`${berth.url}/api/v2.0${path}`, {
    method,
    headers: { Authorization: basicAuth(user, password), 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/// Pushes a one-layer OCI image as `repository:tag` over the distribution API as the admin (`seed` makes the
/// image unique); returns the manifest's digest.
async function pushTaggedImage(berth, repository, tag, seed = repository) {
  const image = tinyImage({ seed });
  await pushBlob(berth.url, repository, image.layer);
  await pushBlob(berth.url, repository, image.config);
  return pushManifest(berth.url, repository, tag, OCI_MANIFEST, image.manifest);
}

/// Keeps a full-page screenshot under playwright/artifacts/screenshots/ (git-ignored).
async function screenshot(page, name) {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

const sha256Hex = (bytes) => crypto.createHash('sha256').update(bytes).digest('hex');

/// Writes a one-layer OCI image layout to `dir` with `tag` (skopeo's `oci:DIR:TAG` source). With `files`
/// (`[path in the image, Buffer]`), the layer holds them; else it is empty.
function writeOciLayout(dir, tag, files) {
  const blobs = path.join(dir, 'blobs', 'sha256');
  fs.mkdirSync(blobs, { recursive: true });
  const image = tinyImage({ made: 'berth playwright tests' }, files ? filesTar(files) : undefined);
  for (const bytes of [image.layer, image.config, image.manifest]) {
    fs.writeFileSync(path.join(blobs, sha256Hex(bytes)), bytes);
  }
  const manifest = descriptor(image.manifest);
  fs.writeFileSync(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  fs.writeFileSync(path.join(dir, 'index.json'), JSON.stringify({
    schemaVersion: 2,
    manifests: [{
      mediaType: OCI_MANIFEST,
      ...manifest,
      annotations: { 'org.opencontainers.image.ref.name': tag },
    }],
  }));
  return manifest.digest;
}

// Pushing images over the OCI distribution API, as the admin (Basic credentials).
const ADMIN_AUTH = basicAuth(ADMIN_USER, ADMIN_PASSWORD);
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';
const sha256 = (data) => `sha256:${sha256Hex(data)}`;
const descriptor = (bytes) => ({ digest: sha256(bytes), size: bytes.length });

/// A one-layer linux/amd64 OCI image (the layer `tar`, by default an empty tar archive) whose config carries
/// `labels`: the bytes of its layer, config and manifest.
function tinyImage(labels, tar = Buffer.alloc(1024) /* an empty tar archive: two zero blocks */) {
  const layer = zlib.gzipSync(tar);
  const config = Buffer.from(JSON.stringify({
    architecture: 'amd64', os: 'linux', created: '2026-01-01T00:00:00Z', config: { Labels: labels },
    rootfs: { type: 'layers', diff_ids: [sha256(tar)] },
  }));
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: OCI_CONFIG, ...descriptor(config) },
    layers: [{ mediaType: OCI_LAYER, ...descriptor(layer) }],
  }));
  return { layer, config, manifest };
}

/// A tar archive (ustar) of `files` (`[path, Buffer]`), with the directories they need.
function filesTar(files) {
  const parts = [];
  const dirs = new Set();
  const entry = (name, kind, mode, content) => {
    if (Buffer.byteLength(name) >= 100) throw new Error(`tar name too long: ${name}`);
    const header = Buffer.alloc(512);
    header.write(name, 0);
    header.write(`${mode.toString(8).padStart(7, '0')}\0`, 100);
    header.write('0000000\0', 108);
    header.write('0000000\0', 116);
    header.write(`${content.length.toString(8).padStart(11, '0')}\0`, 124);
    header.write(`${(1704067200).toString(8).padStart(11, '0')}\0`, 136);
    header.write('        ', 148);
    header.write(kind, 156);
    header.write('ustar\0', 257);
    header.write('00', 263);
    let sum = 0;
    for (const byte of header) sum += byte;
    header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    parts.push(header, content, Buffer.alloc((512 - (content.length % 512)) % 512));
  };
  for (const [file, content] of files) {
    const segments = file.split('/').slice(0, -1);
    for (let i = 1; i <= segments.length; i += 1) {
      const dir = `${segments.slice(0, i).join('/')}/`;
      if (!dirs.has(dir)) {
        dirs.add(dir);
        entry(dir, '5', 0o755, Buffer.alloc(0));
      }
    }
    entry(file, '0', 0o644, content);
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

/// Runs `berth ARGS` on the data directory of `berth` (the CLI works while the server runs); returns its output.
function berthCli(berth, args) {
  return execFileSync(berthBinary(), args, {
    env: { ...process.env, BERTH_DATA_DIR: path.join(berth.dataDir, 'data'), BERTH_LOG_LEVEL: 'warn' },
    encoding: 'utf8',
    stdio: 'pipe',
  });
}

/// Uploads a blob: POST a session, then PUT its bytes with the digest.
async function pushBlob(url, repo, data) {
  const digest = sha256(data);
  const start = await fetch(`${url}/v2/${repo}/blobs/uploads/`, { method: 'POST', headers: { Authorization: ADMIN_AUTH } });
  expect(start.status, `upload session in ${repo}`).toBe(202);
  const location = new URL(start.headers.get('location'), url);
  location.searchParams.set('digest', digest);
  const put = await fetch(location, {
    method: 'PUT',
    headers: { Authorization: ADMIN_AUTH, 'Content-Type': 'application/octet-stream' },
    body: data,
  });
  expect(put.status, `blob ${digest}`).toBe(201);
  return descriptor(data);
}

/// Puts a manifest under `reference` (a tag or its digest); returns its digest.
async function pushManifest(url, repo, reference, mediaType, body) {
  const response = await fetch(`${url}/v2/${repo}/manifests/${reference}`, {
    method: 'PUT',
    headers: { Authorization: ADMIN_AUTH, 'Content-Type': mediaType },
    body,
  });
  expect(response.status, `manifest ${repo}:${reference}`).toBe(201);
  return sha256(body);
}

/// A one-layer image for `architecture` (its bytes differ by `seed`); pushed by digest, returns its digest, size,
/// bytes and layer.
async function pushImage(url, repo, architecture, seed) {
  const layer = await pushBlob(url, repo, crypto.createHash('sha512').update(`layer ${seed}`).digest());
  const config = await pushBlob(url, repo, Buffer.from(JSON.stringify({
    architecture,
    os: 'linux',
    config: { Cmd: ['/bin/true'] },
    rootfs: { type: 'layers', diff_ids: [layer.digest] },
    history: [{ created: '2026-01-01T00:00:00Z', created_by: `seed ${seed}` }],
  })));
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: OCI_CONFIG, digest: config.digest, size: config.size },
    layers: [{ mediaType: OCI_LAYER, digest: layer.digest, size: layer.size }],
  }));
  const digest = await pushManifest(url, repo, sha256(manifest), OCI_MANIFEST, manifest);
  return { digest, size: manifest.length, body: manifest, layer };
}

/// Harbor's list pattern: ticks the checkbox of each of `rows` (a row locator or an array of them), opens the
/// "Action" menu and returns its menu item named `action` (to click, or to check that it is disabled).
async function chooseAction(page, rows, action) {
  for (const row of [].concat(rows)) await row.locator('td.select input[type="checkbox"]').check();
  await page.getByRole('button', { name: 'Action', exact: true }).click();
  return page.getByRole('menuitem', { name: action, exact: true });
}

/// Like `chooseAction`, and clicks the item.
async function act(page, rows, action) {
  await (await chooseAction(page, rows, action)).click();
}

module.exports = {
  test, expect, signIn, screenshot, writeOciLayout, rest, basicAuth, pushTaggedImage, chooseAction, act, pushBlob,
  pushManifest, pushImage, freePort, berthCli, ROOT, OCI_MANIFEST, OCI_INDEX, ADMIN_USER, ADMIN_PASSWORD, ADMIN_AUTH,
};
