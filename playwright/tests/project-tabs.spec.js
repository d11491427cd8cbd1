// The project page's Summary, Repositories and Configuration tabs, and the push commands: a project made
// over the REST API, images pushed and pulled over the OCI distribution API with Basic credentials.
const { test, expect, signIn, screenshot, act, pushTaggedImage, ADMIN_AUTH: BASIC } = require('./fixtures');

const PROJECT = 'tabs-e2e';

test('summary, repositories and configuration of a project with a pushed image', async ({ page, berth }) => {
  test.setTimeout(120_000);
  const host = new URL(berth.url).host;
  const request = page.request;

  await signIn(page);
  await expect(page).toHaveURL(/\/harbor\/projects$/);

  // A private project with one image, made over the API with Basic credentials (no CSRF token needed).
  const created = await request.post('/api/v2.0/projects', {
    headers: { Authorization: BASIC },
    data: { project_name: PROJECT, metadata: { public: 'false' } },
  });
  expect(created.status(), await created.text()).toBe(201);
  const found = await request.get(`/api/v2.0/projects/${PROJECT}`, {
    headers: { Authorization: BASIC, 'X-Is-Resource-Name': 'true' },
  });
  const { project_id: projectId } = await found.json();
  await pushTaggedImage(berth, `${PROJECT}/app`, 'v1', 'app');

  // Summary: counts, quota, an empty chart, and the push commands for this host.
  await page.goto(`/harbor/projects/${projectId}/summary`);
  await expect(page.getByRole('heading', { name: PROJECT })).toBeVisible();
  await expect(page.getByTestId('summary-repo-count')).toHaveText('1');
  await expect(page.getByTestId('summary-artifact-count')).toHaveText('1');
  await expect(page.getByTestId('summary-access')).toHaveText('Private');
  await expect(page.getByRole('meter', { name: 'Storage used' })).toBeVisible();
  const chart = page.getByRole('img', { name: /^Pulls per day over the last 30 days/ });
  await expect(chart).toHaveAttribute('aria-label', 'Pulls per day over the last 30 days: 0 in total');
  await expect(chart.locator('g.pulls-day > title')).toHaveCount(30);
  await expect(page.getByTestId('summary-pull-count')).toHaveText('0');
  await expect(page.locator('.summary-push code', {
    hasText: `docker push ${host}/${PROJECT}/REPOSITORY[:TAG]`,
  })).toBeVisible();
  await expect(page.locator('.summary-push code', {
    hasText: `skopeo copy --dest-tls-verify=false docker-daemon:SOURCE_IMAGE:TAG docker://${host}/${PROJECT}/REPOSITORY:TAG`,
  })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Copy the docker push command' }).first()).toBeVisible();

  // A manifest GET is a pull; pulls are written in batches (about once a second), so the summary catches up.
  const pulled = await request.get(`/v2/${PROJECT}/app/manifests/v1`, {
    headers: { Authorization: BASIC, Accept: 'application/vnd.oci.image.manifest.v1+json' },
  });
  expect(pulled.status()).toBe(200);
  await expect(async () => {
    await page.reload();
    await expect(page.getByTestId('summary-pull-count')).toHaveText('1', { timeout: 2_000 });
  }).toPass({ timeout: 15_000 });
  await expect(chart).toHaveAttribute('aria-label', 'Pulls per day over the last 30 days: 1 in total');
  const today = new Date().toISOString().slice(0, 10);
  await expect(chart.locator('g.pulls-day > title').last()).toHaveText(`${today}: 1 pull`);
  await screenshot(page, 'project-summary');

  // Repositories: a second, nested repository to search between.
  await pushTaggedImage(berth, `${PROJECT}/tools/cli`, 'latest', 'cli');
  await page.getByRole('link', { name: 'Repositories', exact: true }).click();
  await expect(page).toHaveURL(new RegExp(`/harbor/projects/${projectId}/repositories$`));
  const app = page.locator(`tr[data-repository="${PROJECT}/app"]`);
  const cli = page.locator(`tr[data-repository="${PROJECT}/tools/cli"]`);
  await expect(app).toBeVisible();
  await expect(cli).toBeVisible();
  await expect(app.locator('td').nth(2)).toHaveText('1');
  await expect(app.locator('td').nth(3)).toHaveText('1');
  await expect(cli.locator('td').nth(3)).toHaveText('0');
  await expect(app.getByRole('link', { name: `${PROJECT}/app` }))
    .toHaveAttribute('href', `/harbor/projects/${projectId}/repositories/app/artifacts-tab`);
  await expect(cli.getByRole('link', { name: `${PROJECT}/tools/cli` }))
    .toHaveAttribute('href', `/harbor/projects/${projectId}/repositories/tools%2Fcli/artifacts-tab`);

  // The push commands open from the toolbar.
  const toggle = page.getByRole('button', { name: 'Push Command', exact: true });
  await expect(toggle).toHaveAttribute('aria-expanded', 'false');
  await toggle.click();
  await expect(toggle).toHaveAttribute('aria-expanded', 'true');
  const panel = page.getByRole('region', { name: 'Push Command' });
  await expect(panel.locator('code', { hasText: `docker push ${host}/${PROJECT}/REPOSITORY[:TAG]` })).toBeVisible();
  await screenshot(page, 'project-repositories');
  await toggle.click();
  await expect(panel).toBeHidden();

  // Search narrows the list on the server.
  const search = page.getByLabel('Filter repositories by name');
  await search.fill('cli');
  await expect(app).toBeHidden();
  await expect(cli).toBeVisible();
  await expect(page.locator('.pagination-range')).toHaveText('1 - 1 of 1 item');
  await search.fill('nothing-like-this');
  await expect(page.getByText('No repositories found')).toBeVisible();
  await search.fill('');
  await expect(app).toBeVisible();

  // Delete with confirmation: Cancel keeps it, Delete removes it.
  await act(page, app, 'Delete');
  const confirm = page.getByRole('dialog', { name: 'Delete Repository' });
  await expect(confirm).toContainText(`Delete repository ${PROJECT}/app`);
  await confirm.getByRole('button', { name: 'Cancel' }).click();
  await expect(confirm).toBeHidden();
  await expect(app).toBeVisible();
  await act(page, app, 'Delete');
  await confirm.getByRole('button', { name: 'Delete' }).click();
  await expect(confirm).toBeHidden();
  await expect(page.getByRole('status')).toContainText(`Deleted repository ${PROJECT}/app`);
  await expect(app).toBeHidden();
  await expect(cli).toBeVisible();
  const gone = await request.get(`/api/v2.0/projects/${PROJECT}/repositories/app`, { headers: { Authorization: BASIC } });
  expect(gone.status()).toBe(404);

  // The repository link opens the artifacts page.
  await cli.getByRole('link', { name: `${PROJECT}/tools/cli` }).click();
  await expect(page).toHaveURL(new RegExp(`/harbor/projects/${projectId}/repositories/tools%2Fcli/artifacts-tab$`));

  // Configuration: make the project public; it stays so after a reload, and the projects list says so.
  await page.goto(`/harbor/projects/${projectId}/configs`);
  const isPublic = page.getByLabel('Public', { exact: true });
  await expect(isPublic).not.toBeChecked();
  await expect(page.getByTestId('config-type')).toHaveText('Hosted');
  const save = page.getByRole('button', { name: 'Save' });
  await expect(save).toBeDisabled();
  await isPublic.check();
  await expect(save).toBeEnabled();
  await save.click();
  await expect(page.getByRole('status')).toContainText('Configuration saved');
  await expect(save).toBeDisabled();
  await page.reload();
  await expect(isPublic).toBeChecked();
  await screenshot(page, 'project-configuration');
  await page.goto('/harbor/projects');
  await expect(page.locator(`tr[data-project="${PROJECT}"]`)).toContainText('Public');
});
