// A repository's artifacts page: short digests, tags, sizes, the pull command, an image index's platforms,
// pull counts and deleting an artifact. Images are pushed over the OCI distribution API with Basic auth.
const {
  test, expect, signIn, screenshot, act, rest, pushImage, pushManifest, OCI_MANIFEST, OCI_INDEX,
  ADMIN_AUTH: AUTH,
} = require('./fixtures');

const short = (digest) => digest.slice(0, 'sha256:'.length + 8);

test('a repository lists its artifacts, expands an index, counts pulls and deletes', async ({ page, berth }) => {
  const { url } = berth;
  await rest(berth, 'POST', '/projects', { project_name: 'proj', metadata: { public: 'false' } });
  const project = await rest(berth, 'GET', '/projects/proj');
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
  await expect(singleRow.locator('td').nth(7)).toHaveText(/\d+(\.\d\d)? (B|KiB)/);
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
  await expect(arm64Row.locator('td').nth(7)).toHaveText(/\d+(\.\d\d)? (B|KiB)/);
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
  await expect(singleRow.locator('td').nth(9)).not.toBeEmpty();
  await expect(indexRow.locator('td').nth(9)).toBeEmpty();

  // Sorting by pulls, most first, puts the pulled one on top.
  await page.getByRole('button', { name: 'Pulls' }).click();
  await page.getByRole('button', { name: 'Pulls' }).click();
  await expect(page.getByRole('columnheader', { name: 'Pulls' })).toHaveAttribute('aria-sort', 'descending');
  await expect(page.locator('tr.artifact-row').first()).toHaveAttribute('data-digest', single.digest);

  // Delete, after confirming.
  await act(page, singleRow, 'Delete');
  const dialog = page.getByRole('dialog', { name: 'Delete Artifact' });
  await expect(dialog).toContainText(single.digest);
  await dialog.getByRole('button', { name: 'Delete' }).click();
  await expect(dialog).toBeHidden();
  await expect(singleRow).toHaveCount(0);
  await expect(page.locator('tr.artifact-row')).toHaveCount(1);
  const gone = await fetch(`${url}/v2/${repo}/manifests/v1`, { headers: { Authorization: AUTH, Accept: OCI_MANIFEST } });
  expect(gone.status).toBe(404);

  // The index goes with its children; the repository stays, empty.
  await act(page, indexRow, 'Delete');
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

test('an artifact’s page: remove one tag of two, add one, overview, build history and layers', async ({ page, berth }) => {
  const { url } = berth;
  await rest(berth, 'POST', '/projects', { project_name: 'proj', metadata: { public: 'false' } });
  const project = await rest(berth, 'GET', '/projects/proj');
  const repo = 'proj/app';
  const image = await pushImage(url, repo, 'arm64', 7);
  await pushManifest(url, repo, 'v2', OCI_MANIFEST, image.body);
  await pushManifest(url, repo, 'latest', OCI_MANIFEST, image.body);
  const status = async (reference) => (await fetch(`${url}/api/v2.0/projects/proj/repositories/app/artifacts/${reference}`, {
    headers: { Authorization: AUTH },
  })).status;

  await signIn(page);
  await expect(page).toHaveURL(/\/harbor\/projects$/);
  await page.goto(`/harbor/projects/${project.project_id}/repositories/app/artifacts-tab`);
  // The digest in the list opens the artifact's page, at Harbor's address.
  const row = page.locator(`tr.artifact-row[data-digest="${image.digest}"]`);
  await row.getByRole('link', { name: short(image.digest) }).click();
  await expect(page).toHaveURL(new RegExp(
    `/harbor/projects/${project.project_id}/repositories/app/artifacts-tab/artifacts/${encodeURIComponent(image.digest)}$`,
  ));
  await expect(page.getByRole('navigation', { name: 'Artifact breadcrumb' }).getByRole('link', { name: 'app' }))
    .toBeVisible();

  // Tags: both, each with its pull command.
  const tags = page.locator('table.tag-list');
  const latest = tags.locator('tr[data-tag="latest"]');
  const v2 = tags.locator('tr[data-tag="v2"]');
  await expect(tags.locator('tr[data-tag]')).toHaveCount(2);
  const host = new URL(url).host;
  await expect(v2.locator('.pull-command')).toHaveAttribute('data-pull-command', `docker pull ${host}/${repo}:v2`);

  // Overview, build history (from the image config) and layers (from the manifest).
  const overview = page.locator('dl.artifact-overview').first();
  await expect(overview).toContainText(image.digest);
  await expect(overview).toContainText('application/vnd.oci.image.manifest.v1+json');
  await expect(overview).toContainText('linux/arm64');
  await expect(page.locator('table.build-history')).toContainText('seed 7');
  const layer = page.locator(`table.layers tr[data-key="${image.layer.digest}"]`);
  await expect(layer).toContainText(short(image.layer.digest));
  await expect(layer).toContainText('application/vnd.oci.image.layer.v1.tar+gzip');
  await expect(layer).toContainText(`${image.layer.size} B`);
  await screenshot(page, 'artifact-page');

  // Remove Tag takes `latest` only: `v2` and the artifact stay.
  await act(page, latest, 'Remove Tag');
  const confirm = page.getByRole('dialog', { name: 'Remove Tag' });
  await expect(confirm).toContainText('Remove tag latest?');
  await confirm.getByRole('button', { name: 'Remove' }).click();
  await expect(confirm).toBeHidden();
  await expect(latest).toHaveCount(0);
  await expect(v2).toBeVisible();
  expect(await status('latest')).toBe(404);
  expect(await status('v2')).toBe(200);
  expect(await status(image.digest)).toBe(200);

  // Add Tag: a name the registry refuses is explained; a good one is added to this artifact.
  await page.getByRole('button', { name: '+ Add Tag' }).click();
  await page.getByLabel('Tag name').fill('-bad');
  await page.getByRole('button', { name: 'OK' }).click();
  await expect(page.locator('form.add-tag').getByRole('alert')).toContainText('starts with');
  await page.getByLabel('Tag name').fill('v2');
  await page.getByRole('button', { name: 'OK' }).click();
  await expect(page.locator('form.add-tag').getByRole('alert')).toContainText(/already exists/i);
  await page.getByLabel('Tag name').fill('stable');
  await page.getByRole('button', { name: 'OK' }).click();
  await expect(tags.locator('tr[data-tag="stable"]')).toBeVisible();
  await expect(tags.locator('tr[data-tag]')).toHaveCount(2);
  const tagged = await rest(berth, 'GET', '/projects/proj/repositories/app/artifacts/stable');
  expect(tagged.digest).toBe(image.digest);

  // Back in the list, the artifact shows the tags it has now.
  await page.getByRole('navigation', { name: 'Artifact breadcrumb' }).getByRole('link', { name: 'app' }).click();
  await expect(row.locator('.tag-chip')).toHaveText(['stable', 'v2']);
});
