// A project's Members and Robot Accounts tabs, and Administration → Robot Accounts (system robots).
const { test, expect, signIn, screenshot, act, rest, basicAuth: basic } = require('./fixtures');

/// Creates a private project; returns its id.
async function createProject(berth, name) {
  await rest(berth, 'POST', '/projects', { project_name: name, metadata: { public: 'false' } });
  return (await rest(berth, 'GET', `/projects/${name}`)).project_id;
}

/// The status of `GET /v2/` with Basic credentials.
async function v2Status(berth, user, password) {
  const response = await fetch(`${berth.url}/v2/`, { headers: { Authorization: basic(user, password) } });
  return response.status;
}

/// The registry actions a token from `/service/token` grants on `repository`.
async function grantedActions(berth, user, password, repository, actions) {
  const scope = `repository:${repository}:${actions}`;
  const response = await fetch(`${berth.url}/service/token?service=berth&scope=${encodeURIComponent(scope)}`, {
    headers: { Authorization: basic(user, password) },
  });
  expect(response.status).toBe(200);
  const { token } = await response.json();
  const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
  const grant = claims.access.find((a) => a.type === 'repository' && a.name === repository);
  return grant ? [...grant.actions].sort() : [];
}

test('members: add a user, change the role, remove; add a group', async ({ page, berth }) => {
  const id = await createProject(berth, 'team');
  await rest(berth, 'POST', '/users', {
    username: 'dev1', password: 'Dev1Pass123', email: 'dev1@example.com', realname: 'Dev One',
  });
  await rest(berth, 'POST', '/usergroups', { group_name: 'qa-team', group_type: 2 });

  await signIn(page);
  await page.goto(`/harbor/projects/${id}/members`);
  await expect(page.getByRole('link', { name: 'Members' })).toHaveAttribute('aria-current', 'page');
  // The creator is the project's admin.
  await expect(page.locator('tr[data-member="admin"]')).toContainText('Project Admin');

  // An unknown user: the server's message, in the dialog.
  await page.getByRole('button', { name: '+ User' }).click();
  const add = page.getByRole('dialog', { name: 'New Member' });
  await add.getByLabel('Name', { exact: true }).fill('ghost');
  await add.getByRole('button', { name: 'OK' }).click();
  await expect(add.getByRole('alert')).toContainText('not found');

  // dev1 is suggested while typing, and joins as Developer.
  await add.getByLabel('Name', { exact: true }).fill('dev');
  await expect(add.locator('datalist option[value="dev1"]')).toHaveCount(1);
  await add.getByLabel('Name', { exact: true }).fill('dev1');
  await add.getByRole('radio', { name: 'Developer' }).check();
  await add.getByRole('button', { name: 'OK' }).click();
  await expect(add).toBeHidden();
  const dev1 = page.locator('tr[data-member="dev1"]');
  await expect(dev1).toContainText('User');
  await expect(dev1).toContainText('Developer');

  // Developer → Guest.
  await act(page, dev1, 'Change Role');
  const change = page.getByRole('dialog', { name: 'Change Role of dev1' });
  await expect(change.getByRole('radio', { name: 'Developer' })).toBeChecked();
  await change.getByRole('radio', { name: 'Guest', exact: true }).check();
  await change.getByRole('button', { name: 'OK' }).click();
  await expect(change).toBeHidden();
  await expect(dev1.locator('.member-role')).toHaveText('Guest');
  const members = await rest(berth, 'GET', `/projects/${id}/members?entityname=dev1`);
  expect(members.map((m) => [m.entity_name, m.role_id])).toEqual([['dev1', 3]]);

  // A group joins as Maintainer.
  await page.getByRole('button', { name: '+ Group' }).click();
  const addGroup = page.getByRole('dialog', { name: 'New Group Member' });
  await addGroup.getByLabel('Group Name').fill('qa-team');
  await addGroup.getByRole('radio', { name: 'Maintainer' }).check();
  await addGroup.getByRole('button', { name: 'OK' }).click();
  await expect(addGroup).toBeHidden();
  const group = page.locator('tr[data-member="qa-team"]');
  await expect(group).toContainText('Group');
  await expect(group).toContainText('Maintainer');

  // The filter asks the server.
  await page.getByLabel('Filter members by name').fill('qa');
  await expect(page.locator('tr[data-member]')).toHaveCount(1);
  await page.getByLabel('Filter members by name').fill('');
  await expect(page.locator('tr[data-member]')).toHaveCount(3);
  await screenshot(page, 'project-members');

  // Removing asks first.
  // (The filter above left the page: whatever was chosen on it is no longer.)
  await expect(page.locator('tr[data-member] td.select input:checked')).toHaveCount(0);
  await act(page, dev1, 'Remove');
  const confirm = page.getByRole('dialog', { name: 'Remove Member' });
  await expect(confirm).toContainText('Remove dev1 from this project?');
  await confirm.getByRole('button', { name: 'Remove' }).click();
  await expect(dev1).toHaveCount(0);
  await expect(page.locator('tr[data-member]')).toHaveCount(2);
});

test('project robots: create, use, disable, refresh the secret, edit, delete', async ({ page, berth }) => {
  const id = await createProject(berth, 'team');
  await signIn(page);
  await page.goto(`/harbor/projects/${id}/robot-account`);
  await expect(page.getByText('No robot accounts')).toBeVisible();

  await page.getByRole('button', { name: '+ New Robot Account' }).click();
  const dialog = page.getByRole('dialog', { name: 'New Robot Account' });
  await expect(dialog.getByText('robot$team+', { exact: true })).toBeVisible();
  await dialog.getByLabel('Name', { exact: true }).fill('Builder');
  await dialog.getByRole('button', { name: 'Add' }).click();
  await expect(dialog.getByRole('alert')).toContainText('lower-case letters and digits');
  await dialog.getByLabel('Name', { exact: true }).fill('builder');
  await dialog.getByLabel('Description').fill('CI pushes');
  await expect(dialog.getByRole('checkbox', { name: 'Repository: pull' })).toBeChecked();
  await dialog.getByRole('checkbox', { name: 'Repository: push' }).check();
  await screenshot(page, 'robot-dialog');
  await dialog.getByRole('button', { name: 'Add' }).click();
  await expect(dialog).toBeHidden();

  // The secret, once.
  const created = page.getByRole('dialog', { name: 'Robot account created' });
  await expect(created.getByLabel('Name', { exact: true })).toHaveValue('robot$team+builder');
  const secret = await created.getByLabel('Secret', { exact: true }).inputValue();
  expect(secret.length).toBeGreaterThan(7);
  await expect(created).toContainText('shown only once');
  await expect(created.getByRole('button', { name: 'Copy secret' })).toBeVisible();
  await expect(created.getByRole('link', { name: 'Export to File' })).toHaveAttribute('download', 'robot$team+builder.json');
  await screenshot(page, 'robot-secret');
  await created.getByRole('button', { name: 'Close' }).last().click();
  await expect(created).toBeHidden();

  const name = 'robot$team+builder';
  const row = page.locator(`tr[data-robot="${name}"]`);
  await expect(row).toContainText('Enabled');
  await expect(row).toContainText('2 permissions');
  await expect(row).toContainText(/30d 0h|29d 23h/);
  await expect(row).toContainText('CI pushes');

  // The credential works on the registry, for what was granted.
  expect(await v2Status(berth, name, secret)).toBe(200);
  expect(await grantedActions(berth, name, secret, 'team/app', 'pull,push,delete')).toEqual(['pull', 'push']);

  // Disabled, it is refused.
  await act(page, row, 'Disable');
  await expect(row).toContainText('Disabled');
  expect(await v2Status(berth, name, secret)).toBe(401);
  await act(page, row, 'Enable');
  await expect(row).toContainText('Enabled');
  expect(await v2Status(berth, name, secret)).toBe(200);

  // A new secret replaces the old one.
  await act(page, row, 'Refresh Secret');
  const ask = page.getByRole('dialog', { name: 'Refresh Secret' });
  await ask.getByRole('button', { name: 'Refresh', exact: true }).click();
  const refreshed = page.getByRole('dialog', { name: 'Secret refreshed' });
  await expect(refreshed.getByLabel('Name', { exact: true })).toHaveValue(name);
  const newSecret = await refreshed.getByLabel('Secret', { exact: true }).inputValue();
  expect(newSecret).not.toEqual(secret);
  await refreshed.getByRole('button', { name: 'Close' }).last().click();
  expect(await v2Status(berth, name, newSecret)).toBe(200);
  expect(await v2Status(berth, name, secret)).toBe(401);

  // Editing: the permissions read back into the matrix; artifact delete added, never expires.
  await act(page, row, 'Edit');
  const edit = page.getByRole('dialog', { name: 'Edit Robot Account' });
  await expect(edit.getByLabel('Name', { exact: true })).toHaveValue('builder');
  await expect(edit.getByLabel('Name', { exact: true })).toBeDisabled();
  await expect(edit.getByRole('checkbox', { name: 'Repository: push' })).toBeChecked();
  await expect(edit.getByRole('checkbox', { name: 'Tag: create' })).not.toBeChecked();
  await edit.getByRole('checkbox', { name: 'Artifact: delete' }).check();
  await edit.getByLabel('Never expires').check();
  await edit.getByRole('button', { name: 'Save' }).click();
  await expect(edit).toBeHidden();
  await expect(row).toContainText('3 permissions');
  await expect(row).toContainText('Never');
  expect(await grantedActions(berth, name, newSecret, 'team/app', 'pull,push,delete')).toEqual(['delete', 'pull', 'push']);
  await screenshot(page, 'project-robots');

  await act(page, row, 'Delete');
  const confirm = page.getByRole('dialog', { name: 'Delete Robot Account' });
  await expect(confirm).toContainText(`Delete robot account ${name}?`);
  await confirm.getByRole('button', { name: 'Delete' }).click();
  await expect(row).toHaveCount(0);
  await expect(page.getByText('No robot accounts')).toBeVisible();
  expect(await v2Status(berth, name, newSecret)).toBe(401);
});

test('system robots: one covering a chosen project', async ({ page, berth }) => {
  await createProject(berth, 'team');
  await createProject(berth, 'other');
  await signIn(page);
  await page.getByRole('link', { name: 'Robot Accounts' }).click();
  await expect(page).toHaveURL(/\/harbor\/robot-accounts$/);
  await expect(page.getByRole('heading', { name: 'Robot Accounts' })).toBeVisible();

  await page.getByRole('button', { name: '+ New Robot Account' }).click();
  const dialog = page.getByRole('dialog', { name: 'New Robot Account' });
  await expect(dialog.getByText('robot$', { exact: true })).toBeVisible();
  await dialog.getByLabel('Name', { exact: true }).fill('ci');
  // Without a project, the console explains.
  await dialog.getByRole('button', { name: 'Add' }).click();
  await expect(dialog.getByRole('alert')).toContainText('Choose at least one project');
  await dialog.getByLabel('Filter projects by name').fill('tea');
  await expect(dialog.getByRole('checkbox', { name: 'other' })).toHaveCount(0);
  await dialog.getByRole('checkbox', { name: 'team', exact: true }).check();
  await expect(dialog).toContainText('Chosen: team');
  await dialog.getByRole('checkbox', { name: 'Repository: push' }).check();
  await dialog.getByRole('button', { name: 'Add' }).click();
  await expect(dialog).toBeHidden();

  const created = page.getByRole('dialog', { name: 'Robot account created' });
  await expect(created.getByLabel('Name', { exact: true })).toHaveValue('robot$ci');
  const secret = await created.getByLabel('Secret', { exact: true }).inputValue();
  await created.getByRole('button', { name: 'Close' }).last().click();

  const row = page.locator('tr[data-robot="robot$ci"]');
  await expect(row).toContainText('Enabled');
  await expect(row).toContainText('2 permissions in 1 project');
  expect(await v2Status(berth, 'robot$ci', secret)).toBe(200);
  expect(await grantedActions(berth, 'robot$ci', secret, 'team/app', 'pull,push')).toEqual(['pull', 'push']);
  expect(await grantedActions(berth, 'robot$ci', secret, 'other/app', 'pull')).toEqual([]);

  // A second one covering every project.
  await page.getByRole('button', { name: '+ New Robot Account' }).click();
  await dialog.getByLabel('Name', { exact: true }).fill('everywhere');
  await dialog.getByLabel('All projects').check();
  await dialog.getByRole('button', { name: 'Add' }).click();
  await created.getByRole('button', { name: 'Close' }).last().click();
  await expect(page.locator('tr[data-robot="robot$everywhere"]')).toContainText('1 permission in all projects');
  await screenshot(page, 'admin-robots');

  // Project robots are not system robots.
  const project = await rest(berth, 'GET', '/projects/team');
  await rest(berth, 'POST', '/robots', {
    name: 'local', level: 'project', duration: -1,
    permissions: [{ kind: 'project', namespace: 'team', access: [{ resource: 'repository', action: 'pull' }] }],
  });
  await page.getByRole('button', { name: 'Refresh', exact: true }).click();
  await expect(page.locator('tr[data-robot]')).toHaveCount(2);
  await page.goto(`/harbor/projects/${project.project_id}/robot-account`);
  await expect(page.locator('tr[data-robot]')).toHaveCount(1);
  await expect(page.locator('tr[data-robot="robot$team+local"]')).toContainText('Never');
});
