// Administration: users (create, admin flag, reset password, delete), groups (create, rename, delete), the audit
// log (also a project's Logs tab), the system page, and what a non-administrator sees.
const { test, expect, signIn, screenshot, chooseAction, act, rest } = require('./fixtures');

async function signOut(page) {
  await page.locator('.user-menu > button').click();
  await page.getByRole('menuitem', { name: 'Log Out' }).click();
  await expect(page).toHaveURL(/\/account\/sign-in/);
}

test('users: create with the server’s password rule, admin flag, reset password, delete', async ({ page }) => {
  await signIn(page);
  await page.getByRole('link', { name: 'Users' }).click();
  await expect(page).toHaveURL(/\/harbor\/users$/);
  const adminRow = page.locator('tr[data-user="admin"]');
  await expect(adminRow).toContainText('Yes');
  // Harbor's list: no per-row buttons, a checkbox per row and one Action menu.
  await expect(page.locator('table.list tbody button')).toHaveCount(0);
  // The signed-in admin cannot revoke, reset or delete themself, nor anyone the built-in admin.
  await expect(await chooseAction(page, adminRow, 'Revoke Administrator')).toBeDisabled();
  await expect(page.getByRole('menuitem', { name: 'Reset Password' })).toBeDisabled();
  await expect(page.getByRole('menuitem', { name: 'Delete' })).toBeDisabled();
  await page.keyboard.press('Escape');
  await adminRow.getByRole('checkbox').uncheck();

  await page.getByRole('button', { name: '+ New User' }).click();
  const dialog = page.getByRole('dialog', { name: 'New User' });
  await dialog.getByLabel('Username').fill('alice');
  await dialog.getByLabel('Email').fill('alice@example.com');
  await dialog.getByLabel('First and last name').fill('Alice Example');
  await dialog.getByLabel('Password', { exact: true }).fill('weak');
  await dialog.getByLabel('Confirm Password').fill('weak');
  await dialog.getByRole('button', { name: 'OK' }).click();
  // The server's password policy, shown as it says it.
  await expect(dialog.getByRole('alert')).toContainText('8 to 256 characters');

  // Mismatched passwords are caught before anything is sent.
  await dialog.getByLabel('Password', { exact: true }).fill('Passw0rdAlice');
  await dialog.getByLabel('Confirm Password').fill('Passw0rdAlicX');
  await dialog.getByRole('button', { name: 'OK' }).click();
  await expect(dialog.getByRole('alert')).toContainText('differ');

  await dialog.getByLabel('Confirm Password').fill('Passw0rdAlice');
  await dialog.getByLabel('Comments').fill('e2e');
  await dialog.getByRole('button', { name: 'OK' }).click();
  await expect(dialog).toBeHidden();
  const alice = page.locator('tr[data-user="alice"]');
  await expect(alice).toContainText('alice@example.com');
  await expect(alice.locator('.user-admin')).toHaveText('No');

  await act(page, alice, 'Set as Administrator');
  await expect(alice.locator('.user-admin')).toHaveText('Yes');
  await screenshot(page, 'admin-users');
  await act(page, alice, 'Revoke Administrator');
  await expect(alice.locator('.user-admin')).toHaveText('No');

  // The search narrows the list on the server.
  await page.getByLabel('Filter users by username').fill('ali');
  await expect(page.locator('tr[data-user]')).toHaveCount(1);
  await page.getByLabel('Filter users by username').fill('');
  await expect(page.locator('tr[data-user]')).toHaveCount(2);

  await act(page, alice, 'Reset Password');
  const reset = page.getByRole('dialog', { name: 'Reset Password of alice' });
  await reset.getByLabel('New Password').fill('Passw0rdReset');
  await reset.getByLabel('Confirm Password').fill('Passw0rdReset');
  await reset.getByRole('button', { name: 'OK' }).click();
  await expect(reset).toBeHidden();
  await expect(page.getByRole('status')).toContainText('Password of alice reset');

  // alice signs in with the new password.
  await signOut(page);
  await signIn(page, 'alice', 'Passw0rdReset');
  await expect(page).toHaveURL(/\/harbor\/projects$/);
  await expect(page.locator('.user-menu > button')).toContainText('alice');
  await signOut(page);

  await signIn(page);
  await expect(page).toHaveURL(/\/harbor\/projects$/);
  await page.goto('/harbor/users');
  await act(page, alice, 'Delete');
  const confirm = page.getByRole('dialog', { name: 'Delete User' });
  await expect(confirm).toContainText('Delete user alice?');
  await confirm.getByRole('button', { name: 'Delete' }).click();
  await expect(confirm).toBeHidden();
  await expect(alice).toHaveCount(0);
  await expect(page.locator('tr[data-user]')).toHaveCount(1);
});

test('groups: create, rename and delete', async ({ page }) => {
  await signIn(page);
  // In database auth mode the navigation has no Groups (as in Harbor); the page is still at its address.
  await expect(page.getByRole('link', { name: 'Groups' })).toHaveCount(0);
  await page.goto('/harbor/groups');
  await expect(page.getByText('No groups found')).toBeVisible();

  await page.getByRole('button', { name: '+ New Group' }).click();
  let dialog = page.getByRole('dialog', { name: 'New Group' });
  await dialog.getByLabel('Name').fill('developers');
  await dialog.getByLabel('Type').selectOption('LDAP');
  // An LDAP group needs its DN.
  await dialog.getByRole('button', { name: 'OK' }).click();
  await expect(dialog.getByRole('alert')).toContainText('LDAP group DN');
  await dialog.getByLabel('LDAP Group DN').fill('cn=developers,ou=groups,dc=example,dc=com');
  await dialog.getByRole('button', { name: 'OK' }).click();
  await expect(dialog).toBeHidden();
  const developers = page.locator('tr[data-group="developers"]');
  await expect(developers).toContainText('LDAP');
  await expect(developers).toContainText('cn=developers,ou=groups,dc=example,dc=com');

  await page.getByRole('button', { name: '+ New Group' }).click();
  dialog = page.getByRole('dialog', { name: 'New Group' });
  await dialog.getByLabel('Name').fill('ops');
  await dialog.getByLabel('Type').selectOption('HTTP');
  await expect(dialog.getByLabel('LDAP Group DN')).toHaveCount(0);
  await dialog.getByRole('button', { name: 'OK' }).click();
  await expect(dialog).toBeHidden();
  await expect(page.locator('tr[data-group="ops"]')).toContainText('HTTP');
  await screenshot(page, 'admin-groups');

  await act(page, page.locator('tr[data-group="ops"]'), 'Edit');
  const edit = page.getByRole('dialog', { name: 'Edit Group' });
  await expect(edit.getByLabel('Name')).toHaveValue('ops');
  await edit.getByLabel('Name').fill('operations');
  await edit.getByRole('button', { name: 'OK' }).click();
  await expect(edit).toBeHidden();
  await expect(page.locator('tr[data-group="operations"]')).toContainText('HTTP');
  await expect(page.locator('tr[data-group="ops"]')).toHaveCount(0);

  await page.getByLabel('Filter groups by name').fill('operat');
  await expect(page.locator('tr[data-group]')).toHaveCount(1);
  await page.getByLabel('Filter groups by name').fill('');
  await expect(page.locator('tr[data-group]')).toHaveCount(2);

  await act(page, page.locator('tr[data-group="operations"]'), 'Delete');
  const confirm = page.getByRole('dialog', { name: 'Delete Group' });
  await expect(confirm).toContainText('Delete group operations?');
  await confirm.getByRole('button', { name: 'Delete' }).click();
  await expect(confirm).toBeHidden();
  await expect(page.locator('tr[data-group="operations"]')).toHaveCount(0);
  await expect(page.locator('tr[data-group]')).toHaveCount(1);
});

test('audit log: a created project is listed, filters work, and the project’s Logs tab shows its entries', async ({ page, berth }) => {
  await signIn(page);
  await expect(page).toHaveURL(/\/harbor\/projects$/);
  // One project through the UI, one over REST (with a member, so the project has more than one entry).
  await page.getByRole('button', { name: '+ New Project' }).click();
  const dialog = page.getByRole('dialog', { name: 'New Project' });
  await dialog.getByLabel('Project Name').fill('audited');
  await dialog.getByRole('button', { name: 'OK' }).click();
  await expect(page.locator('tr[data-project="audited"]')).toBeVisible();
  await rest(berth, 'POST', '/projects', { project_name: 'other', metadata: { public: 'false' } });
  await rest(berth, 'POST', '/users', {
    username: 'bob', password: 'Passw0rdBob', email: 'bob@example.com', realname: 'Bob',
  });
  await rest(berth, 'POST', '/projects/audited/members', { role_id: 2, member_user: { username: 'bob' } });

  await page.getByRole('link', { name: 'Audit Log' }).click();
  await expect(page).toHaveURL(/\/harbor\/logs$/);
  const created = page.locator('tr[data-operation="create"][data-resource="audited"]');
  await expect(created).toContainText('admin');
  await expect(created).toContainText('project');
  await expect(page.locator('tr[data-resource="other"]')).toHaveCount(1);
  // Newest first: the member added last is on top.
  await expect(page.locator('tbody tr').first()).toContainText('member');
  await screenshot(page, 'admin-audit-log');

  await page.getByRole('button', { name: /^Operations: All/ }).click();
  await page.getByRole('checkbox', { name: 'Create' }).check();
  await page.keyboard.press('Escape');
  await expect(page.getByRole('button', { name: /^Operations: Create/ })).toBeVisible();
  await expect(page.locator('tbody tr[data-operation]').first()).toBeVisible();
  await expect(page.locator('tbody tr[data-operation]:not([data-operation="create"])')).toHaveCount(0);
  await expect(created).toBeVisible();

  await page.getByLabel('Filter by', { exact: true }).selectOption('resource');
  await page.getByLabel('Filter by resource').fill('audit');
  await expect(page.locator('tr[data-resource="other"]')).toHaveCount(0);
  await expect(created).toBeVisible();

  await page.getByRole('button', { name: /^Operations: Create/ }).click();
  await page.getByRole('checkbox', { name: 'Create' }).uncheck();
  await page.getByRole('checkbox', { name: 'Delete' }).check();
  await page.keyboard.press('Escape');
  await expect(page.getByText('No audit log entries found')).toBeVisible();

  // The project's Logs tab: only this project's entries.
  await page.goto('/harbor/projects');
  await page.getByRole('link', { name: 'audited' }).click();
  await page.getByRole('link', { name: 'Logs' }).click();
  await expect(page).toHaveURL(/\/harbor\/projects\/\d+\/logs$/);
  await expect(page.locator('tr[data-operation="create"][data-resource="audited"]')).toBeVisible();
  await expect(page.locator('tbody tr[data-operation]')).toHaveCount(2);
  await expect(page.locator('tr[data-resource="other"]')).toHaveCount(0);
  await screenshot(page, 'project-logs');
});

test('system page: version, healthy components and statistics', async ({ page }) => {
  await signIn(page);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Configuration' }).click();
  // Configuration opens on Authentication, as Harbor's does.
  await expect(page).toHaveURL(/\/harbor\/configs\/auth$/);
  await page.getByRole('navigation', { name: 'Configuration' }).getByRole('link', { name: 'System' }).click();
  await expect(page).toHaveURL(/\/harbor\/configs\/setting$/);
  await expect(page.getByTestId('system-version')).toContainText(/^berth-v\d+\.\d+/);
  await expect(page.getByText('All components are healthy')).toBeVisible();
  for (const name of ['database', 'storage']) {
    const row = page.locator(`li[data-component="${name}"]`);
    await expect(row).toContainText('Healthy');
    await expect(row.locator('.status-ok')).toHaveCount(1);
  }
  // The first start creates the project `library`.
  await expect(page.getByTestId('stat-projects')).toHaveText('1');
  await expect(page.getByRole('heading', { name: 'Authentication' })).toBeVisible();
  await expect(page.getByTestId('auth-mode')).toHaveText('Database');
  await screenshot(page, 'admin-system');
});

test('a non-administrator gets no Administration, and a no-permission page at its addresses', async ({ page, berth }) => {
  await rest(berth, 'POST', '/users', {
    username: 'carol', password: 'Passw0rdCarol', email: 'carol@example.com', realname: 'Carol',
  });
  await signIn(page, 'carol', 'Passw0rdCarol');
  await expect(page).toHaveURL(/\/harbor\/projects$/);
  const nav = page.getByRole('navigation', { name: 'Main' });
  await expect(nav.getByRole('link', { name: 'Projects' })).toBeVisible();
  await expect(nav.getByRole('link', { name: 'Users' })).toHaveCount(0);

  for (const path of ['/harbor/users', '/harbor/groups', '/harbor/logs']) {
    await page.goto(path);
    await expect(page.getByRole('heading', { name: 'No permission', exact: true })).toBeVisible();
    await expect(page.getByRole('alert')).toHaveCount(0);
    await expect(page.getByRole('button', { name: /^\+ New/ })).toHaveCount(0);
  }
  await expect(nav.getByRole('link', { name: 'Users' })).toHaveCount(0);
});
