// An artifact's vulnerabilities: the artifact list's Vulnerabilities column and the artifact page's view.
// The server's scan endpoints are not there yet: this covers what works today (never scanned, and a refused
// Scan shown as a toast); the scan itself and its findings follow with the scanner.
const { test, expect, signIn, rest, pushTaggedImage } = require('./fixtures');

test('an unscanned artifact says so in the list and on its page, and a refused Scan is a toast', async ({ page, berth }) => {
  await rest(berth, 'POST', '/projects', { project_name: 'scanme', metadata: { public: 'false' } });
  const { project_id: id } = await rest(berth, 'GET', '/projects/scanme');
  const digest = await pushTaggedImage(berth, 'scanme/app', 'v1');
  await signIn(page);

  const listed = page.waitForRequest((r) => r.url().includes('/repositories/app/artifacts?'));
  await page.goto(`/harbor/projects/${id}/repositories/app/artifacts-tab`);
  expect((await listed).url()).toContain('with_scan_overview=true');
  await expect(page.getByRole('columnheader', { name: 'Vulnerabilities' })).toBeVisible();
  const row = page.locator(`tr[data-digest="${digest}"]`);
  await expect(row.locator('.artifact-vulnerabilities')).toHaveText('Not Scanned');

  await row.getByRole('link', { name: /sha256:/ }).click();
  const section = page.getByRole('region', { name: 'Vulnerabilities' });
  await expect(section.getByText('Not scanned yet')).toBeVisible();
  await expect(section.getByText('Not Scanned', { exact: true })).toBeVisible();
  // The admin may scan (Harbor's matrix: project admins and maintainers); nothing runs, so no Stop.
  const scan = section.getByRole('button', { name: 'Scan' });
  await expect(scan).toBeVisible();
  await expect(section.getByRole('button', { name: 'Stop' })).toBeHidden();

  const [answer] = await Promise.all([
    page.waitForResponse((r) => /\/artifacts\/[^/]+\/scan$/.test(r.url()) && r.request().method() === 'POST'),
    scan.click(),
  ]);
  expect(answer.ok()).toBe(false);
  const toast = page.locator('.toast.toast-error');
  await expect(toast).toBeVisible();
  // The page still works: the section and the button are there, ready for another try.
  await expect(section.getByText('Not scanned yet')).toBeVisible();
  await expect(scan).toBeEnabled();
});

test('a Developer sees no Scan button', async ({ page, berth }) => {
  await rest(berth, 'POST', '/projects', { project_name: 'devscan', metadata: { public: 'false' } });
  const { project_id: id } = await rest(berth, 'GET', '/projects/devscan');
  const digest = await pushTaggedImage(berth, 'devscan/app', 'v1');
  await rest(berth, 'POST', '/users', {
    username: 'dev', password: 'Developer1', email: 'dev@example.com', realname: 'Dev',
  });
  await rest(berth, 'POST', '/projects/devscan/members', { role_id: 2, member_user: { username: 'dev' } });
  await signIn(page, 'dev', 'Developer1');
  await page.goto(`/harbor/projects/${id}/repositories/app/artifacts-tab/artifacts/${digest}`);
  const section = page.getByRole('region', { name: 'Vulnerabilities' });
  await expect(section.getByText('Not scanned yet')).toBeVisible();
  await expect(section.getByRole('button', { name: 'Scan' })).toBeHidden();
});
