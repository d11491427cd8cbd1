// The console's first pages: sign-in, the projects list (create, delete), the theme, the project page, sign-out.
const { test, expect, signIn, screenshot, act, ADMIN_PASSWORD } = require('./fixtures');

test('signing in: a wrong password gets the generic message, the right one the projects list', async ({ page }) => {
  await page.goto('/');
  await expect(page).toHaveURL(/\/account\/sign-in/);
  await screenshot(page, 'sign-in');

  await page.getByLabel('Username').fill('admin');
  await page.getByLabel('Password').fill('not-the-password');
  await page.getByRole('button', { name: 'Log In' }).click();
  await expect(page.getByRole('alert')).toHaveText('Invalid user name or password');

  await page.getByLabel('Username').fill('nobody');
  await page.getByLabel('Password').fill(ADMIN_PASSWORD);
  await page.getByRole('button', { name: 'Log In' }).click();
  await expect(page.getByRole('alert')).toHaveText('Invalid user name or password');

  await signIn(page);
  await expect(page).toHaveURL(/\/harbor\/projects$/);
  await expect(page.getByRole('heading', { name: 'Projects' })).toBeVisible();
  // The first start creates the public project `library`.
  const library = page.locator('tr[data-project="library"]');
  await expect(library).toContainText('Public');
  await expect(library).toContainText('Hosted');
  await expect(library.getByRole('meter')).toBeVisible();
  // A system admin sees the Administration group.
  await expect(page.getByRole('link', { name: 'Users' })).toBeVisible();
  await screenshot(page, 'projects');
});

test('a deep link survives a reload and returns after sign-in', async ({ page }) => {
  await page.goto('/harbor/projects/1/members');
  await expect(page).toHaveURL(/\/account\/sign-in\?redirect_url=/);
  await page.getByLabel('Username').fill('admin');
  await page.getByLabel('Password').fill(ADMIN_PASSWORD);
  await page.getByRole('button', { name: 'Log In' }).click();
  await expect(page).toHaveURL(/\/harbor\/projects\/1\/members$/);
  await expect(page.getByRole('heading', { name: 'library' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Members' })).toHaveAttribute('aria-current', 'page');
  await page.reload();
  await expect(page.getByRole('heading', { name: 'library' })).toBeVisible();
  await screenshot(page, 'project');

  // The project's own address opens its Summary tab.
  await page.getByRole('link', { name: 'Projects' }).first().click();
  await page.getByRole('link', { name: 'library' }).click();
  await expect(page).toHaveURL(/\/harbor\/projects\/1\/summary$/);
  await expect(page.getByRole('link', { name: 'Summary' })).toHaveAttribute('aria-current', 'page');

  // After a reload the console has no token from sign-in: it takes the CSRF token the server repeats on GETs,
  // so changes still work.
  await page.goto('/harbor/projects');
  await page.getByRole('button', { name: '+ New Project' }).click();
  const dialog = page.getByRole('dialog', { name: 'New Project' });
  await dialog.getByLabel('Project Name').fill('after-reload');
  await dialog.getByRole('button', { name: 'OK' }).click();
  await expect(page.locator('tr[data-project="after-reload"]')).toBeVisible();
});

test('creating a project through the dialog, then deleting it with confirmation', async ({ page }) => {
  await signIn(page);
  await page.getByRole('button', { name: '+ New Project' }).click();
  const dialog = page.getByRole('dialog', { name: 'New Project' });
  await expect(dialog).toBeVisible();

  // A name Harbor refuses is explained before anything is sent.
  await dialog.getByLabel('Project Name').fill('Bad Name');
  await dialog.getByRole('button', { name: 'OK' }).click();
  await expect(dialog.getByRole('alert')).toContainText('lower-case letters and digits');

  await dialog.getByLabel('Project Name').fill('team-e2e');
  await dialog.getByLabel('Public').check();
  await dialog.getByLabel('Project quota limits').fill('10');
  await dialog.getByLabel('Storage unit').selectOption('MiB');
  await screenshot(page, 'new-project-dialog');
  await dialog.getByRole('button', { name: 'OK' }).click();
  await expect(dialog).toBeHidden();

  const row = page.locator('tr[data-project="team-e2e"]');
  await expect(row).toBeVisible();
  await expect(row).toContainText('Public');
  await expect(row).toContainText('0 B of 10.00 MiB');

  // The same name again: the server's message is shown in the dialog.
  await page.getByRole('button', { name: '+ New Project' }).click();
  await dialog.getByLabel('Project Name').fill('team-e2e');
  await dialog.getByRole('button', { name: 'OK' }).click();
  await expect(dialog.getByRole('alert')).toContainText(/already exists/i);
  await dialog.getByRole('button', { name: 'Cancel' }).click();

  // Sorting by name happens on the server: ascending, then descending.
  const names = page.locator('tbody tr[data-project]');
  await page.getByRole('button', { name: 'Project Name' }).click();
  await expect(page.getByRole('columnheader', { name: 'Project Name' })).toHaveAttribute('aria-sort', 'ascending');
  await expect(names.first()).toHaveAttribute('data-project', 'library');
  await page.getByRole('button', { name: 'Project Name' }).click();
  await expect(names.first()).toHaveAttribute('data-project', 'team-e2e');

  // Search narrows the list on the server.
  await page.getByLabel('Filter projects by name').fill('e2e');
  await expect(page.locator('tr[data-project="library"]')).toHaveCount(0);
  await expect(row).toBeVisible();

  await act(page, row, 'Delete');
  const confirm = page.getByRole('dialog', { name: 'Delete Project' });
  await expect(confirm).toContainText('Delete project team-e2e?');
  await confirm.getByRole('button', { name: 'Delete' }).click();
  await expect(confirm).toBeHidden();
  await expect(row).toHaveCount(0);
  await expect(page.getByText('No projects found')).toBeVisible();
});

test('the theme switches and is remembered', async ({ page }) => {
  await signIn(page);
  const html = page.locator('html');
  const before = await html.getAttribute('data-theme');
  expect(['light', 'dark']).toContain(before);
  await page.getByTestId('theme-toggle').click();
  const after = before === 'light' ? 'dark' : 'light';
  await expect(html).toHaveAttribute('data-theme', after);
  await page.reload();
  await expect(page.getByRole('heading', { name: 'Projects' })).toBeVisible();
  await expect(html).toHaveAttribute('data-theme', after);
  await screenshot(page, `projects-${after}`);
});

test('signing out ends the session', async ({ page }) => {
  await signIn(page);
  await expect(page.getByRole('heading', { name: 'Projects' })).toBeVisible();
  await page.getByRole('button', { name: /admin/ }).click();
  await page.getByRole('menuitem', { name: 'About' }).click();
  await expect(page.getByRole('dialog', { name: 'About Berth' })).toBeVisible();
  await page.keyboard.press('Escape');
  await page.getByRole('button', { name: /admin/ }).click();
  await page.getByRole('menuitem', { name: 'Log Out' }).click();
  await expect(page).toHaveURL(/\/account\/sign-in$/);
  await page.goto('/harbor/projects');
  await expect(page).toHaveURL(/\/account\/sign-in/);
});

test('changing the password from the user menu', async ({ page }) => {
  await signIn(page);
  await page.getByRole('button', { name: /admin/ }).click();
  await page.getByRole('menuitem', { name: 'Change Password' }).click();
  const dialog = page.getByRole('dialog', { name: 'Change Password' });
  await dialog.getByLabel('Current password').fill(ADMIN_PASSWORD);
  await dialog.getByLabel('New password').fill('Changed-Pass1');
  await dialog.getByLabel('Confirm password').fill('Changed-Pass2');
  await dialog.getByRole('button', { name: 'OK' }).click();
  await expect(dialog.getByRole('alert')).toHaveText('The two new passwords differ.');
  await dialog.getByLabel('Confirm password').fill('Changed-Pass1');
  await dialog.getByRole('button', { name: 'OK' }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByRole('status')).toContainText('Password changed');

  await page.getByRole('button', { name: /admin/ }).click();
  await page.getByRole('menuitem', { name: 'Log Out' }).click();
  await signIn(page, 'admin', ADMIN_PASSWORD);
  await expect(page.getByRole('alert')).toHaveText('Invalid user name or password');
  await signIn(page, 'admin', 'Changed-Pass1');
  await expect(page.getByRole('heading', { name: 'Projects' })).toBeVisible();
});
