// Configuration → Authentication without an LDAP or OIDC server: the tab loads, a changed LDAP field is saved
// and reads back (the write-only password stays empty), "TEST LDAP SERVER" against a closed port says why it
// failed, and the auth mode locks once users exist. Sign-in, onboarding, the CLI secret and LDAP group import run
// against real servers in sso.spec.js.
const { test, expect, signIn, screenshot, rest } = require('./fixtures');

async function openAuthTab(page) {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Configuration' }).click();
  await expect(page).toHaveURL(/\/harbor\/configs\/auth$/);
  await expect(page.getByLabel('Auth Mode')).toBeVisible();
}

test('the Authentication tab shows the mode and only its fields', async ({ page }) => {
  await signIn(page);
  await openAuthTab(page);
  const mode = page.getByLabel('Auth Mode');
  await expect(mode).toHaveValue('db_auth');
  await expect(mode).toBeEnabled();
  await expect(page.getByLabel('Allow Self-Registration')).toBeVisible();
  await expect(page.getByLabel('LDAP URL')).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'SAVE' })).toBeDisabled();

  await mode.selectOption('oidc_auth');
  await expect(page.getByLabel('OIDC Endpoint')).toBeVisible();
  await expect(page.getByLabel('OIDC Client Secret')).toHaveAttribute('type', 'password');
  await expect(page.getByRole('button', { name: 'TEST OIDC SERVER' })).toBeVisible();
  await expect(page.getByLabel('LDAP URL')).toHaveCount(0);

  await mode.selectOption('ldap_auth');
  await expect(page.getByLabel('LDAP URL')).toBeVisible();
  await expect(page.getByLabel('LDAP Group Admin DN')).toBeVisible();
  await expect(page.getByLabel('OIDC Endpoint')).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'SAVE' })).toBeEnabled();
  await page.getByRole('button', { name: 'CANCEL' }).click();
  await expect(mode).toHaveValue('db_auth');
  await screenshot(page, 'auth-config-db');
});

test('saving changed LDAP fields round-trips and never shows the password', async ({ page, berth }) => {
  await signIn(page);
  await openAuthTab(page);
  await page.getByLabel('Auth Mode').selectOption('ldap_auth');
  await page.getByLabel('LDAP URL').fill('ldap://127.0.0.1:1');
  await page.getByLabel('LDAP Search DN').fill('cn=admin,dc=example,dc=com');
  await page.getByLabel('LDAP Search Password').fill('S3cretBind');
  await page.getByLabel('LDAP Base DN').fill('ou=people,dc=example,dc=com');
  await page.getByLabel('LDAP Scope').selectOption('1');
  await page.getByRole('button', { name: 'SAVE' }).click();
  await expect(page.locator('.toast')).toContainText('Configuration saved');
  await expect(page.getByRole('button', { name: 'SAVE' })).toBeDisabled();

  const stored = await rest(berth, 'GET', '/configurations');
  expect(stored.auth_mode.value).toBe('ldap_auth');
  expect(stored.ldap_url.value).toBe('ldap://127.0.0.1:1');
  expect(stored.ldap_scope.value).toBe(1);
  expect(stored).not.toHaveProperty('ldap_search_password');

  await page.reload();
  await expect(page.getByLabel('Auth Mode')).toHaveValue('ldap_auth');
  await expect(page.getByLabel('LDAP URL')).toHaveValue('ldap://127.0.0.1:1');
  await expect(page.getByLabel('LDAP Base DN')).toHaveValue('ou=people,dc=example,dc=com');
  await expect(page.getByLabel('LDAP Scope')).toHaveValue('1');
  await expect(page.getByLabel('LDAP Search Password')).toHaveValue('');

  // Changing one field sends only that key: the stored password survives the empty input.
  await page.getByLabel('LDAP Filter').fill('(objectClass=person)');
  const put = page.waitForRequest((r) => r.method() === 'PUT' && r.url().endsWith('/api/v2.0/configurations'));
  await page.getByRole('button', { name: 'SAVE' }).click();
  expect((await put).postDataJSON()).toEqual({ ldap_filter: '(objectClass=person)' });
  await expect(page.locator('.toast').last()).toContainText('Configuration saved');
  await screenshot(page, 'auth-config-ldap');
});

test('TEST LDAP SERVER against a closed port says that it failed and why', async ({ page, berth }) => {
  await rest(berth, 'PUT', '/configurations', { auth_mode: 'ldap_auth' });
  await signIn(page);
  await openAuthTab(page);
  await page.getByLabel('LDAP URL').fill('ldap://127.0.0.1:1');
  await page.getByLabel('LDAP Base DN').fill('dc=example,dc=com');
  const ping = page.waitForRequest((r) => r.method() === 'POST' && r.url().endsWith('/api/v2.0/ldap/ping'));
  await page.getByRole('button', { name: 'TEST LDAP SERVER' }).click();
  expect((await ping).postDataJSON()).toMatchObject({ ldap_url: 'ldap://127.0.0.1:1', ldap_base_dn: 'dc=example,dc=com' });
  const result = page.getByTestId('test-result');
  await expect(result).toContainText('Connection to the LDAP server failed');
  await expect(result).toHaveClass(/banner-error/);
  // The test did not save anything.
  expect((await rest(berth, 'GET', '/configurations')).ldap_url.value).toBe('');
  await screenshot(page, 'auth-config-ldap-test');
});

test('the auth mode locks once a user other than admin exists', async ({ page, berth }) => {
  await rest(berth, 'POST', '/users', {
    username: 'dora', password: 'Passw0rdDora', email: 'dora@example.com', realname: 'Dora',
  });
  await signIn(page);
  await openAuthTab(page);
  await expect(page.getByLabel('Auth Mode')).toBeDisabled();
  await expect(page.getByTestId('auth-mode-locked')).toBeVisible();
});

test('in OIDC mode the sign-in page offers the provider and keeps the local form', async ({ page, berth }) => {
  await rest(berth, 'PUT', '/configurations', {
    auth_mode: 'oidc_auth', oidc_name: 'Keycloak', oidc_endpoint: 'https://id.example.com', oidc_client_id: 'berth',
  });
  await page.goto('/account/sign-in?redirect_url=%2Fharbor%2Fusers');
  const sso = page.getByRole('link', { name: 'LOGIN VIA Keycloak' });
  await expect(sso).toBeVisible();
  await expect(sso).toHaveAttribute('href', '/c/oidc/login?redirect_url=%2Fharbor%2Fusers');
  await expect(page.getByLabel('Username')).toBeVisible();
  await screenshot(page, 'auth-sign-in-oidc');
  // The local admin still signs in with its password.
  await signIn(page);
  await expect(page).toHaveURL(/\/harbor\/projects$/);
});

test('the profile edits email, name and comment, and has no CLI secret without OIDC', async ({ page }) => {
  await signIn(page);
  const openProfile = async () => {
    await page.locator('.user-menu > button').click();
    await page.getByRole('menuitem', { name: 'User Profile' }).click();
  };
  await openProfile();
  const dialog = page.getByRole('dialog', { name: 'User Profile' });
  await expect(dialog.getByTestId('profile-username')).toHaveText('admin');
  await expect(dialog.getByTestId('cli-secret')).toHaveCount(0);

  // A malformed email is refused with the server's message, and nothing changes.
  await dialog.getByLabel('Email').fill('not-an-email');
  await dialog.getByRole('button', { name: 'OK' }).click();
  await expect(dialog.getByRole('alert')).toContainText(/email with illegal format/i);
  const before = await (await page.request.get('/api/v2.0/users/current')).json();
  expect(before.email).not.toBe('not-an-email');

  await dialog.getByLabel('Email').fill('root@example.com');
  await dialog.getByLabel('First and last name').fill('Site Admin');
  await dialog.getByLabel('Comments').fill('on call');
  await dialog.getByRole('button', { name: 'OK' }).click();
  await expect(page.locator('.toast')).toContainText('Saved the profile');
  await expect(dialog).toBeHidden();
  const after = await (await page.request.get('/api/v2.0/users/current')).json();
  expect([after.email, after.realname, after.comment]).toEqual(['root@example.com', 'Site Admin', 'on call']);

  // Reopened, it shows what was saved; Cancel sends nothing.
  await openProfile();
  await expect(dialog.getByLabel('First and last name')).toHaveValue('Site Admin');
  await screenshot(page, 'user-profile');
  await dialog.getByLabel('Comments').fill('changed, then cancelled');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  expect((await (await page.request.get('/api/v2.0/users/current')).json()).comment).toBe('on call');
});
