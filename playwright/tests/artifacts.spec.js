// A repository's artifacts page: short digests, tags, sizes, the pull command, an image index's platforms,
// pull counts and deleting an artifact. Images are pushed over the OCI distribution API with Basic auth.
const crypto = require('node:crypto');
const { test, expect, signIn, screenshot, ADMIN_USER, ADMIN_PASSWORD } = require('./fixtures');

const AUTH = `Basic ${Buffer.from(`${ADMIN_USER}:${ADMIN_PASSWORD}`).toString('base64')}`;
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';

const sha256 = (data) => `sha256:${crypto.createHash('sha256').update(data).digest('hex')}`;
const short = (digest) => digest.slice(0, 'sha256:'.length + 8);

/// Uploads a blob: POST a session, then PUT its bytes with the digest.
async function pushBlob(url, repo, data) {
  const digest = sha256(data);
  const start = await fetch(`${url}/v2/${repo}/blobs/uploads/`, { method: 'POST', headers: { Authorization: AUTH } });
  expect(start.status, `upload session in ${repo}`).toBe(202);
  const location = new URL(start.headers.get('location'), url);
  location.searchParams.set('digest', digest);
  const put = await fetch(location, {
    method: 'PUT',
    headers: { Authorization: AUTH, 'Content-Type': 'application/octet-stream' },
    body: data,
  });
  expect(put.status, `blob ${digest}`).toBe(201);
  return { digest, size: data.length };
}

async function pushManifest(url, repo, reference, mediaType, body) {
  const response = await fetch(`${url}/v2/${repo}/manifests/${reference}`, {
    method: 'PUT',
    headers: { Authorization: AUTH, 'Content-Type': mediaType },
    body,
  });
  expect(response.status, `manifest ${repo}:${reference}`).toBe(201);
  return sha256(body);
}

/// A one-layer image for `architecture` (its bytes differ by `seed`); pushed by digest, returns its digest and size.
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
  return { digest, size: manifest.length, body: manifest };
}

async function rest(url, method, path, body) {
  const response = await fetch(`${url}/api/v2.0${path}`, {
    method,
    headers: { Authorization: AUTH, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  expect(response.ok, `${method} ${path}: ${response.status}`).toBeTruthy();
  return response;
}

test('a repository lists its artifacts, expands an index, counts pulls and deletes', async ({ page, berth }) => {
  const { url } = berth;
  await rest(url, 'POST', '/projects', { project_name: 'proj', metadata: { public: 'false' } });
  const project = await (await rest(url, 'GET', '/projects/proj')).json();
  const repo = 'proj/apps/web';

  // (a) One platform, two tags.
  const single = await pushImage(url, repo, 'amd64', 1);
  await pushManifest(url, repo, 'v1', OCI_MANIFEST, single.body);
  await pushManifest(url, repo, 'latest', OCI_MANIFEST, single.body);
  // (b) An index over two platforms: children by digest first, then the index by tag.
  const amd64 = await pushImage(url, repo, 'amd64', 2);
  const arm64 = await pushImage(url, repo, 'arm64', 3);
  const index = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: [
      { mediaType: OCI_MANIFEST, digest: amd64.digest, size: amd64.size, platform: { os: 'linux', architecture: 'amd64' } },
      { mediaType: OCI_MANIFEST, digest: arm64.digest, size: arm64.size, platform: { os: 'linux', architecture: 'arm64' } },
    ],
  }));
  const indexDigest = await pushManifest(url, repo, 'multi', OCI_INDEX, index);

  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: url });
  await signIn(page);
  await expect(page).toHaveURL(/\/harbor\/projects$/);
  // The repository inside the project, encoded once as the repositories tab links it.
  await page.goto(`/harbor/projects/${project.project_id}/repositories/${encodeURIComponent('apps/web')}/artifacts-tab`);

  const breadcrumb = page.getByRole('navigation', { name: 'Repository breadcrumb' });
  await expect(breadcrumb.getByRole('link', { name: 'proj', exact: true })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'apps/web' })).toBeVisible();

  const singleRow = page.locator(`tr.artifact-row[data-digest="${single.digest}"]`);
  const indexRow = page.locator(`tr.artifact-row[data-digest="${indexDigest}"]`);
  await expect(page.locator('tr.artifact-row')).toHaveCount(2);
  await expect(singleRow).toContainText(short(single.digest));
  await expect(singleRow.locator('.tag-chip')).toHaveText(['latest', 'v1']);
  await expect(singleRow).toContainText('linux/amd64');
  await expect(singleRow.locator('td').nth(3)).toHaveText(/\d+(\.\d\d)? (B|KiB)/);
  await expect(singleRow.locator('.artifact-pulls')).toHaveText('0');
  await expect(indexRow).toContainText(short(indexDigest));
  await expect(indexRow.locator('.tag-chip')).toHaveText(['multi']);
  await expect(indexRow).toContainText('Image index');
  // Newest push first: the index came last.
  await expect(page.locator('tr.artifact-row').first()).toHaveAttribute('data-digest', indexDigest);

  // The pull command names the first tag (the newest), with this registry's host.
  const host = new URL(url).host;
  const expected = `docker pull ${host}/${repo}:latest`;
  await expect(singleRow.locator('.pull-command')).toHaveAttribute('data-pull-command', expected);
  await singleRow.getByRole('button', { name: 'Copy pull command' }).click();
  await expect(singleRow.getByRole('button', { name: 'Copy pull command' })).toHaveText('Copied');
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(expected);
  await singleRow.getByRole('button', { name: 'Copy digest' }).click();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(single.digest);
  await screenshot(page, 'artifacts');

  // The index's platforms, on demand.
  const toggle = indexRow.getByRole('button', { name: /Show the 2 platforms/ });
  await expect(toggle).toHaveAttribute('aria-expanded', 'false');
  await expect(page.locator('tr.artifact-child')).toHaveCount(0);
  await toggle.click();
  await expect(toggle).toHaveAttribute('aria-expanded', 'true');
  const children = page.locator('tr.artifact-child');
  await expect(children).toHaveCount(2);
  const amd64Row = page.locator(`tr.artifact-child[data-child="${amd64.digest}"]`);
  const arm64Row = page.locator(`tr.artifact-child[data-child="${arm64.digest}"]`);
  await expect(amd64Row).toContainText('linux/amd64');
  await expect(amd64Row).toContainText(short(amd64.digest));
  await expect(arm64Row).toContainText('linux/arm64');
  await expect(arm64Row).toContainText(short(arm64.digest));
  await expect(arm64Row.locator('td').nth(3)).toHaveText(/\d+(\.\d\d)? (B|KiB)/);
  await expect(arm64Row.locator('.pull-command'))
    .toHaveAttribute('data-pull-command', `docker pull ${host}/${repo}@${arm64.digest}`);
  await screenshot(page, 'artifacts-index-expanded');
  await toggle.click();
  await expect(children).toHaveCount(0);

  // A pull over HTTP counts (the server writes pull counts within a second).
  const pulled = await fetch(`${url}/v2/${repo}/manifests/v1`, { headers: { Authorization: AUTH, Accept: OCI_MANIFEST } });
  expect(pulled.status).toBe(200);
  await expect(async () => {
    await page.getByRole('button', { name: 'Refresh' }).click();
    await expect(singleRow.locator('.artifact-pulls')).toHaveText('1', { timeout: 1_000 });
  }).toPass({ timeout: 10_000 });
  await expect(indexRow.locator('.artifact-pulls')).toHaveText('0');
  await expect(singleRow.locator('td').nth(5)).not.toBeEmpty();
  await expect(indexRow.locator('td').nth(5)).toBeEmpty();

  // Sorting by pulls, most first, puts the pulled one on top.
  await page.getByRole('button', { name: 'Pulls' }).click();
  await page.getByRole('button', { name: 'Pulls' }).click();
  await expect(page.getByRole('columnheader', { name: 'Pulls' })).toHaveAttribute('aria-sort', 'descending');
  await expect(page.locator('tr.artifact-row').first()).toHaveAttribute('data-digest', single.digest);

  // Delete, after confirming.
  await singleRow.getByRole('button', { name: `Delete artifact ${short(single.digest)}` }).click();
  const dialog = page.getByRole('dialog', { name: 'Delete Artifact' });
  await expect(dialog).toContainText(single.digest);
  await dialog.getByRole('button', { name: 'Delete' }).click();
  await expect(dialog).toBeHidden();
  await expect(singleRow).toHaveCount(0);
  await expect(page.locator('tr.artifact-row')).toHaveCount(1);
  const gone = await fetch(`${url}/v2/${repo}/manifests/v1`, { headers: { Authorization: AUTH, Accept: OCI_MANIFEST } });
  expect(gone.status).toBe(404);

  // The index goes with its children; the repository stays, empty.
  await indexRow.getByRole('button', { name: `Delete artifact ${short(indexDigest)}` }).click();
  await dialog.getByRole('button', { name: 'Delete' }).click();
  await expect(page.getByText('No artifacts found')).toBeVisible();
});

test('an empty or missing repository says so', async ({ page, berth }) => {
  await signIn(page);
  await expect(page).toHaveURL(/\/harbor\/projects$/);
  // `library` (project 1) exists from the first start; it has no repository `nothing`.
  await page.goto('/harbor/projects/1/repositories/nothing/artifacts-tab');
  await expect(page.getByRole('heading', { name: 'nothing' })).toBeVisible();
  await expect(page.getByRole('alert')).toContainText(/not found/i);
  await expect(page.getByRole('button', { name: 'Refresh' })).toBeVisible();
  expect(berth.url).toBeTruthy();
});
