// Harbor's list pattern on every list page (row checkboxes and one Action menu, a bulk delete behind one
// confirmation that names what goes and each item that failed), the projects list (Role column, quota from the
// list itself: a bounded number of requests) and the audit log (anonymous entries, long digests, Harbor's
// date-range and operation filters).
const {
  test, expect, signIn, screenshot, act, rest, pushImage, pushManifest, OCI_MANIFEST,
} = require('./fixtures');

/// The browser's local date `days` from today, as a date input takes it (YYYY-MM-DD).
function localDay(days) {
  const d = new Date();
  d.setDate(d.getDate() + days);
  const two = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}`;
}

test('every list offers row checkboxes and one Action menu instead of a Delete button per row', async ({ page, berth }) => {
  const { url } = berth;
  await rest(berth, 'POST', '/projects', { project_name: 'team', metadata: { public: 'false' } });
  const team = await rest(berth, 'GET', '/projects/team');
  const image = await pushImage(url, 'team/app', 'amd64', 1);
  await pushManifest(url, 'team/app', 'v1', OCI_MANIFEST, image.body);
  await rest(berth, 'POST', '/users', { username: 'dev', password: 'Passw0rdDev', email: 'dev@example.com', realname: 'Dev' });
  await rest(berth, 'POST', '/projects/team/members', { role_id: 2, member_user: { username: 'dev' } });
  await rest(berth, 'POST', '/usergroups', { group_name: 'ops', group_type: 2 });
  await rest(berth, 'POST', '/registries', { name: 'hub', type: 'docker-registry', url: 'http://127.0.0.1:9' });
  const pull = [{ resource: 'repository', action: 'pull' }];
  await rest(berth, 'POST', '/robots', {
    name: 'ci', level: 'project', duration: -1, permissions: [{ kind: 'project', namespace: 'team', access: pull }],
  });
  await rest(berth, 'POST', '/robots', {
    name: 'sys', level: 'system', duration: -1, permissions: [{ kind: 'project', namespace: '*', access: pull }],
  });

  await signIn(page);
  await expect(page).toHaveURL(/\/harbor\/projects$/);
  const pages = [
    ['/harbor/projects', 'tr[data-project="team"]'],
    [`/harbor/projects/${team.project_id}/repositories`, 'tr[data-repository="team/app"]'],
    [`/harbor/projects/${team.project_id}/repositories/app/artifacts-tab`, `tr[data-digest="${image.digest}"]`],
    [`/harbor/projects/${team.project_id}/members`, 'tr[data-member="dev"]'],
    [`/harbor/projects/${team.project_id}/robot-account`, 'tr[data-robot="robot$team+ci"]'],
    ['/harbor/robot-accounts', 'tr[data-robot="robot$sys"]'],
    ['/harbor/users', 'tr[data-user="dev"]'],
    ['/harbor/groups', 'tr[data-group="ops"]'],
    ['/harbor/registries', 'tr[data-registry="hub"]'],
  ];
  for (const [path, rowSelector] of pages) {
    await page.goto(path);
    const row = page.locator(rowSelector);
    await expect(row, path).toBeVisible();
    await expect(page.locator('table.list tbody button.danger'), `${path}: no red button in the rows`).toHaveCount(0);
    await expect(row.getByRole('checkbox'), path).toHaveCount(1);
    const action = page.getByRole('button', { name: 'Action', exact: true });
    await expect(action, path).toBeVisible();
    // Nothing chosen: nothing to delete.
    await action.click();
    await expect(page.getByRole('menuitem', { name: /^(Delete|Remove)$/ }), path).toBeDisabled();
    await page.keyboard.press('Escape');
    await expect(page.getByRole('menu'), path).toHaveCount(0);
    // The row chosen, the menu says so and offers the delete.
    await row.getByRole('checkbox').check();
    await expect(page.locator('.selection-count'), path).toHaveText('1 selected');
    await action.click();
    await expect(page.getByRole('menuitem', { name: /^(Delete|Remove)$/ }), path).toBeEnabled();
    await page.keyboard.press('Escape');
    await row.getByRole('checkbox').uncheck();
    // The header's checkbox chooses the whole page, and again none.
    const all = page.getByRole('checkbox', { name: 'Select all rows on this page' });
    await all.check();
    await expect(row.getByRole('checkbox'), path).toBeChecked();
    await all.uncheck();
    await expect(row.getByRole('checkbox'), path).not.toBeChecked();
    await expect(page.locator('.selection-count'), path).toHaveText('');
  }
});

test('a bulk delete asks once, names what goes, and names each item that failed', async ({ page, berth }) => {
  const { url } = berth;
  for (const name of ['empty-a', 'full', 'empty-b']) {
    await rest(berth, 'POST', '/projects', { project_name: name, metadata: { public: 'false' } });
  }
  const image = await pushImage(url, 'full/app', 'amd64', 2);
  await pushManifest(url, 'full/app', 'v1', OCI_MANIFEST, image.body);

  await signIn(page);
  await expect(page).toHaveURL(/\/harbor\/projects$/);
  const rows = ['empty-a', 'full', 'empty-b'].map((name) => page.locator(`tr[data-project="${name}"]`));
  await act(page, rows, 'Delete');
  const confirm = page.getByRole('dialog', { name: 'Delete Project' });
  await expect(confirm).toContainText(/Delete 3 projects: .*empty-a.*\?/);
  for (const name of ['empty-a', 'full', 'empty-b']) await expect(confirm).toContainText(name);
  await screenshot(page, 'projects-bulk-delete');
  await confirm.getByRole('button', { name: 'Delete' }).click();

  // The two empty projects go; the one with a repository stays, and the dialog says why, by name.
  const alert = confirm.getByRole('alert');
  await expect(alert).toContainText('1 of 3 failed:');
  await expect(alert).toContainText(/full: Project full still has repositories/);
  await expect(alert).not.toContainText('empty-a');
  await expect(confirm).toContainText('Delete project full?');
  await expect(rows[0]).toHaveCount(0);
  await expect(rows[2]).toHaveCount(0);
  await expect(page.getByRole('status')).toContainText(/Deleted 2 projects: (empty-a and empty-b|empty-b and empty-a)/);
  await confirm.getByRole('button', { name: 'Cancel' }).click();
  await expect(rows[1]).toBeVisible();
  const left = (await rest(berth, 'GET', '/projects')).map((p) => p.name).sort();
  expect(left).toEqual(['full', 'library']);
});

test('the projects list shows the caller’s role and quotas with a bounded number of requests', async ({ page, berth }) => {
  const names = Array.from({ length: 20 }, (_, i) => `p${String(i).padStart(2, '0')}`);
  for (const name of names) {
    await rest(berth, 'POST', '/projects', { project_name: name, metadata: { public: 'false' }, storage_limit: 1048576 });
  }
  await rest(berth, 'POST', '/users', { username: 'bob', password: 'Passw0rdBob', email: 'bob@example.com', realname: 'Bob' });
  await rest(berth, 'POST', '/projects/p01/members', { role_id: 2, member_user: { username: 'bob' } });

  await signIn(page);
  await expect(page).toHaveURL(/\/harbor\/projects$/);
  const requests = [];
  page.on('request', (request) => {
    const path = new URL(request.url()).pathname;
    if (path.startsWith('/api/v2.0/')) requests.push(path);
  });
  await page.goto('/harbor/projects');
  await expect(page.locator('tbody tr[data-project]')).toHaveCount(15);
  await page.waitForLoadState('networkidle');
  // The signed-in user, the system info and one page of projects (which carries each quota): none per row.
  expect(requests.filter((p) => /\/summary$|\/quotas\//.test(p)), requests.join('\n')).toEqual([]);
  expect(requests.length, requests.join('\n')).toBeLessThanOrEqual(4);
  const p05 = page.locator('tr[data-project="p05"]');
  await expect(p05.locator('.project-role')).toHaveText('Project Admin');
  await expect(p05.getByRole('meter')).toBeVisible();
  await expect(p05).toContainText('0 B of 1.00 MiB');
  await expect(page.getByRole('columnheader', { name: 'Role' })).toBeVisible();

  // bob sees his own role, and no quota where he is no member.
  await page.locator('.user-menu > button').click();
  await page.getByRole('menuitem', { name: 'Log Out' }).click();
  await signIn(page, 'bob', 'Passw0rdBob');
  await expect(page).toHaveURL(/\/harbor\/projects$/);
  const p01 = page.locator('tr[data-project="p01"]');
  const library = page.locator('tr[data-project="library"]');
  await expect(p01.locator('.project-role')).toHaveText('Developer');
  await expect(p01.getByRole('meter')).toBeVisible();
  await expect(library.locator('.project-role')).toHaveText('—');
  await expect(library.getByRole('meter')).toHaveCount(0);
  await screenshot(page, 'projects-roles');
});

test('audit log: anonymous pulls, long digests, a date range and several operations', async ({ page, berth }) => {
  const { url } = berth;
  // An image in the public `library`, pulled by digest without credentials (Docker's anonymous token).
  const image = await pushImage(url, 'library/app', 'amd64', 3);
  await pushManifest(url, 'library/app', 'v1', OCI_MANIFEST, image.body);
  const token = await (await fetch(`${url}/service/token?service=berth&scope=repository:library/app:pull`)).json();
  const pulled = await fetch(`${url}/v2/library/app/manifests/${image.digest}`, {
    headers: { Authorization: `Bearer ${token.token}`, Accept: OCI_MANIFEST },
  });
  expect(pulled.status).toBe(200);

  await signIn(page);
  await expect(page).toHaveURL(/\/harbor\/projects$/);
  await page.goto('/harbor/logs');
  const resource = `library/app@${image.digest}`;
  const anonymous = page.locator(`tr[data-operation="pull"][data-resource="${resource}"]`);
  // Pulls are written in batches, within a second or so.
  await expect(async () => {
    await page.getByRole('button', { name: 'Refresh' }).click();
    await expect(anonymous).toHaveCount(1, { timeout: 1_000 });
  }).toPass({ timeout: 10_000 });
  await expect(anonymous.locator('td').first()).toHaveText('anonymous');
  // The digest is cut short, whole in the title and in the copy button.
  const text = anonymous.locator('.audit-resource-text');
  await expect(text).toHaveText(`library/app@${image.digest.slice(0, 'sha256:'.length + 12)}…`);
  await expect(text).toHaveAttribute('title', resource);
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: url });
  await anonymous.getByRole('button', { name: 'Copy resource' }).click();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(resource);
  const width = await page.locator('table.audit-list').evaluate((t) => t.getBoundingClientRect().width);
  const room = await page.locator('main').evaluate((m) => m.clientWidth);
  expect(width).toBeLessThanOrEqual(room);
  await screenshot(page, 'audit-log-anonymous');

  // Several operations at once (Harbor's `operation={create pull}`).
  const entries = page.locator('tbody tr[data-operation]');
  await page.getByRole('button', { name: /^Operations: All/ }).click();
  await page.getByRole('checkbox', { name: 'Pull' }).check();
  await page.getByRole('checkbox', { name: 'Create' }).check();
  await page.keyboard.press('Escape');
  await expect(page.getByRole('button', { name: /^Operations: 2 operations/ })).toBeVisible();
  await expect(anonymous).toBeVisible();
  await expect(page.locator('tr[data-operation="create"]').first()).toBeVisible();
  await expect(page.locator('tbody tr[data-operation]:not([data-operation="create"]):not([data-operation="pull"])'))
    .toHaveCount(0);

  // A date range (Harbor's `op_time=[from~to]`): from tomorrow, nothing; today only, the entries.
  await page.getByLabel('From', { exact: true }).fill(localDay(1));
  await expect(page.getByText('No audit log entries found')).toBeVisible();
  await page.getByLabel('From', { exact: true }).fill(localDay(0));
  await page.getByLabel('To', { exact: true }).fill(localDay(0));
  await expect(anonymous).toBeVisible();
  await page.getByLabel('To', { exact: true }).fill(localDay(-1));
  await expect(entries).toHaveCount(0);

  // The project's Logs tab takes the same filters.
  await page.goto('/harbor/projects/1/logs');
  const projectPull = page.locator(`tr[data-operation="pull"][data-resource="${resource}"]`);
  await expect(projectPull.locator('td').first()).toHaveText('anonymous');
  await page.getByLabel('From', { exact: true }).fill(localDay(1));
  await expect(page.getByText('No audit log entries found')).toBeVisible();
});
