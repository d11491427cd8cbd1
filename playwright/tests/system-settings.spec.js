// Administration → Configuration → System: Harbor's system settings (project creation, read-only mode, robot
// token lifetime and name prefix, self-registration), saved with `PUT /configurations`; the read-only banner;
// Groups shown only where groups come from a directory (not in database auth mode), as in Harbor.
const { test, expect, signIn, rest } = require('./fixtures');

async function stored(berth) {
  const conf = await rest(berth, 'GET', '/configurations');
  return Object.fromEntries(Object.entries(conf).map(([key, item]) => [key, item.value]));
}

test('the System settings are edited with Save and Cancel and stored', async ({ page, berth }) => {
  await signIn(page);
  await page.goto('/harbor/configs/setting');
  const creation = page.getByLabel('Project Creation');
  const duration = page.getByLabel('Robot Token Expiration (Days)');
  const prefix = page.getByLabel('Robot Name Prefix');
  const selfRegistration = page.getByLabel('Allow Self-Registration');
  const save = page.getByRole('button', { name: 'Save' });
  const cancel = page.getByRole('button', { name: 'Cancel' });
  await expect(creation).toHaveValue('everyone');
  await expect(duration).toHaveValue('30');
  await expect(prefix).toHaveValue('robot$');
  await expect(selfRegistration).not.toBeChecked();
  await expect(save).toBeDisabled();
  await expect(cancel).toBeDisabled();

  // Cancel puts back what is stored.
  await creation.selectOption('adminonly');
  await expect(save).toBeEnabled();
  await cancel.click();
  await expect(creation).toHaveValue('everyone');
  await expect(save).toBeDisabled();

  // A value the server refuses: its message, and nothing stored.
  await duration.fill('0');
  await save.click();
  await expect(page.getByRole('alert')).toContainText('robot_token_duration');
  expect((await stored(berth)).robot_token_duration).toBe(30);

  // Every setting changed and saved.
  await creation.selectOption('adminonly');
  await duration.fill('45');
  await prefix.fill('bot-');
  await selfRegistration.check();
  await save.click();
  await expect(page.getByRole('status')).toContainText('Configuration saved');
  await expect(save).toBeDisabled();
  const after = await stored(berth);
  expect(after.project_creation_restriction).toBe('adminonly');
  expect(after.robot_token_duration).toBe(45);
  expect(after.robot_name_prefix).toBe('bot-');
  expect(after.self_registration).toBe(true);

  // The page shows what is stored after a reload, and the general information agrees.
  await page.reload();
  await expect(creation).toHaveValue('adminonly');
  await expect(duration).toHaveValue('45');
  await expect(prefix).toHaveValue('bot-');
  await expect(selfRegistration).toBeChecked();
  await expect(page.getByTestId('system-project-creation')).toHaveText('Admin Only');

  // Only administrators may create projects now: others get no "+ New Project", as in Harbor.
  await page.goto('/harbor/projects');
  await expect(page.getByRole('button', { name: '+ New Project' })).toBeVisible();
  await rest(berth, 'POST', '/users', {
    username: 'dana', password: 'Passw0rdDana', email: 'dana@example.com', realname: 'Dana',
  });
  await page.context().clearCookies();
  await signIn(page, 'dana', 'Passw0rdDana');
  await expect(page.getByRole('heading', { name: 'Projects' })).toBeVisible();
  await expect(page.locator('tr[data-project="library"]')).toBeVisible();
  await expect(page.getByRole('button', { name: '+ New Project' })).toHaveCount(0);
});

test('Groups are shown only when groups come from a directory', async ({ page, berth }) => {
  await signIn(page);
  const nav = page.getByRole('navigation', { name: 'Main' });
  await expect(nav.getByRole('link', { name: 'Users' })).toBeVisible();
  await expect(nav.getByRole('link', { name: 'Groups' })).toHaveCount(0);
  await rest(berth, 'PUT', '/configurations', { auth_mode: 'ldap_auth' });
  await page.reload();
  await expect(nav.getByRole('link', { name: 'Groups' })).toBeVisible();
});

test('read-only mode: set on the System page, announced by a banner on every page', async ({ page, berth }) => {
  // Harbor's `read_only` key; its server side (refusing writes, `systeminfo.read_only`) is another change.
  test.skip(!('read_only' in await stored(berth)), 'this server has no read_only setting yet');
  await signIn(page);
  const banner = page.getByRole('status').filter({ hasText: 'read-only' });
  await expect(banner).toHaveCount(0);
  await page.goto('/harbor/configs/setting');
  const readOnly = page.getByLabel('Repository Read Only');
  await expect(readOnly).not.toBeChecked();
  await readOnly.check();
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Configuration saved' })).toBeVisible();
  expect((await stored(berth)).read_only).toBe(true);
  await expect(banner).toBeVisible();
  for (const path of ['/harbor/projects', '/harbor/projects/1/summary', '/harbor/users']) {
    await page.goto(path);
    await expect(banner, path).toContainText('read-only');
  }
  await page.goto('/harbor/configs/setting');
  await readOnly.uncheck();
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(banner).toHaveCount(0);
  expect((await stored(berth)).read_only).toBe(false);
});
