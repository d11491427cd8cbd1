// Single sign-on in the browser (issue 6), against real servers each test starts and stops itself: a private
// OpenLDAP slapd (fixtures/slapd.mjs) for `ldap_auth`, and the npm `oidc-provider` (fixtures/oidc-provider.mjs)
// for `oidc_auth`. The admin configures Berth over the REST API; the users then sign in through the console:
// - LDAP: a member of an LDAP group that is a project member sees the project (with the group's role); a wrong
//   password and a filter injection are refused on the sign-in page; a user in 60 groups signs in; the admin group's member (dave) is
//   an administrator in the console; the admin imports a directory group in New Group.
// - OIDC: "LOGIN VIA TestID" → the provider's login and consent pages → the console as alice, whose profile
//   shows the CLI secret, which works for skopeo login and pull and is regenerated there; the admin group makes her an administrator in
//   the console, with her provider groups under Administration → Groups.
// - OIDC onboarding: without auto-onboarding, a user without a name claim chooses one and enters the console.
const { execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const {
  test, expect, signIn, screenshot, rest, basicAuth: basic, writeOciLayout, ADMIN_USER, ADMIN_PASSWORD,
} = require('./fixtures');

const FIXTURES = path.join(__dirname, '..', 'fixtures');
const CLIENT_ID = 'berth';
const CLIENT_SECRET = 'berth-client-secret';

/// Starts fixtures/slapd.mjs's directory; `{ url, settings, stop }` plus the module's helpers.
async function startSlapd() {
  const slapd = await import(path.join(FIXTURES, 'slapd.mjs'));
  return { ...(await slapd.startSlapd()), module: slapd };
}

/// Starts fixtures/oidc-provider.mjs for `redirectUri`; resolves with `{ issuer, stop }` once it prints
/// `ready <issuer>`. Its output is read to the end (a provider whose stdout pipe fills or closes dies).
async function startOidcProvider(redirectUri) {
  const child = spawn(process.execPath, [path.join(FIXTURES, 'oidc-provider.mjs'), '--port', '0',
    '--client-id', CLIENT_ID, '--client-secret', CLIENT_SECRET, '--redirect-uri', redirectUri], {
    cwd: path.join(__dirname, '..'),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr.on('data', (d) => { output += d; });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  const issuer = await new Promise((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => reject(new Error(`oidc-provider did not start within 15 s:\n${output}`)), 15_000);
    child.stdout.on('data', (d) => {
      stdout += d;
      output += d;
      const ready = stdout.match(/^ready (\S+)$/m);
      if (ready) {
        clearTimeout(timer);
        resolve(ready[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`oidc-provider exited with ${code}:\n${output}`));
    });
  }).catch(async (e) => {
    await stop();
    throw e;
  });
  return { issuer, stop, log: () => output };
}

/// Puts Berth in `oidc_auth` against `provider` (Harbor's configuration keys).
async function configureOidc(berth, provider, autoOnboard) {
  await rest(berth, 'PUT', '/configurations', {
    auth_mode: 'oidc_auth',
    oidc_name: 'TestID',
    oidc_endpoint: provider.issuer,
    oidc_client_id: CLIENT_ID,
    oidc_client_secret: CLIENT_SECRET,
    oidc_scope: 'openid,profile,email,groups',
    oidc_groups_claim: 'groups',
    oidc_admin_group: 'berth-admins',
    oidc_auto_onboard: autoOnboard,
  });
}

/// From the sign-in page, "LOGIN VIA TestID", then the provider's login and consent pages as `login`.
/// Resolves once the browser is back on Berth.
async function signInWithProvider(page, berth, provider, login) {
  // The provider's pages load a web font from the internet; the tests run offline, so refuse it at once.
  await page.route(/^https?:\/\/fonts\.(googleapis|gstatic)\.com\//, (route) => route.abort());
  await page.goto('/account/sign-in');
  const button = page.getByRole('link', { name: 'LOGIN VIA TestID' });
  await expect(button).toBeVisible();
  await button.click();
  await page.waitForURL((url) => url.href.startsWith(provider.issuer));
  await expect(page.getByRole('heading', { name: 'Sign-in' })).toBeVisible();
  await page.locator('input[name=login]').fill(login);
  await page.locator('input[name=password]').fill('any password');
  await screenshot(page, `sso-oidc-provider-login-${login}`);
  await page.locator('button[type=submit]').click();
  // The consent page, on the provider still.
  await expect(page.getByRole('heading', { name: 'Authorize' })).toBeVisible();
  await page.locator('button[type=submit]').click();
  await page.waitForURL((url) => url.href.startsWith(berth.url));
}

/// The button in the top bar that opens the user menu (it shows the user name).
const userMenu = (page) => page.locator('header.topbar').getByRole('button', { name: /▾/ });

/// Signs out through the user menu; resolves on the sign-in page.
async function signOut(page) {
  await userMenu(page).click();
  await page.getByRole('menuitem', { name: 'Log Out' }).click();
  await page.waitForURL((url) => url.pathname.startsWith('/account/sign-in'));
}

const adminNav = (page) => page.getByRole('navigation', { name: 'Main' }).getByRole('group', { name: 'Administration' });

/// Runs skopeo with a throwaway HOME and auth file (no stored credentials but the ones this test saves).
function skopeo(args, work) {
  return execFileSync('skopeo', args, {
    env: {
      ...process.env,
      HOME: work,
      XDG_RUNTIME_DIR: work,
      REGISTRY_AUTH_FILE: path.join(work, 'auth.json'),
    },
    encoding: 'utf8',
    stdio: 'pipe',
  });
}

test('an LDAP group member signs in and sees the group\'s project; a wrong password is refused', async ({ page, berth }) => {
  const slapd = await startSlapd();
  try {
    await rest(berth, 'PUT', '/configurations', { auth_mode: 'ldap_auth', ...slapd.settings });
    await rest(berth, 'POST', '/projects', { project_name: 'team', metadata: { public: 'false' } });
    await rest(berth, 'POST', '/projects', { project_name: 'elsewhere', metadata: { public: 'false' } });
    await rest(berth, 'POST', '/projects/team/members', {
      role_id: 2,
      member_group: { group_name: 'developers', group_type: 1, ldap_group_dn: slapd.module.groupDn('developers') },
    });

    // A wrong password: the form says so and stays put; nobody is signed in.
    await signIn(page, 'alice', 'wrong-password');
    await expect(page.getByRole('alert')).toHaveText('Invalid user name or password');
    await expect(page).toHaveURL(/\/account\/sign-in/);
    await expect(page.getByLabel('Password')).toHaveValue('');
    expect((await page.request.get('/api/v2.0/users/current')).status()).toBe(401);
    await screenshot(page, 'sso-ldap-wrong-password');
    // A filter injection in the user name is refused alike.
    await signIn(page, '*)(uid=*', 'alice-pw');
    await expect(page.getByRole('alert')).toHaveText('Invalid user name or password');
    await expect(page).toHaveURL(/\/account\/sign-in/);
    expect((await page.request.get('/api/v2.0/users/current')).status()).toBe(401);

    // alice's LDAP password: her name in the top bar, `team` (through `developers`) in Projects, and only it.
    await signIn(page, 'alice', slapd.module.password('alice'));
    await expect(page).toHaveURL(/\/harbor\/projects$/);
    await expect(userMenu(page)).toHaveText(/alice/);
    await expect(page.locator('tr[data-project="team"]')).toBeVisible();
    await expect(page.locator('tr[data-project="elsewhere"]')).toHaveCount(0);
    await expect(adminNav(page)).toHaveCount(0);
    await screenshot(page, 'sso-ldap-alice-projects');
    const me = await (await page.request.get('/api/v2.0/users/current')).json();
    expect(me).toMatchObject({ username: 'alice', email: 'alice@example.org', admin_role_in_auth: false });

    // Her role in `team` is the group's: Developer.
    await page.locator('tr[data-project="team"]').getByRole('link', { name: 'team' }).click();
    await expect(page).toHaveURL(/\/harbor\/projects\/\d+/);
    const team = await (await page.request.get('/api/v2.0/projects/team')).json();
    expect(team.current_user_role_id).toBe(2);
  } finally {
    await slapd.stop();
  }
});

test('a user in 60 LDAP groups signs in and gets the role of one of them', async ({ page, berth }) => {
  const slapd = await startSlapd();
  try {
    await rest(berth, 'PUT', '/configurations', { auth_mode: 'ldap_auth', ...slapd.settings });
    await rest(berth, 'POST', '/projects', { project_name: 'sixty', metadata: { public: 'false' } });
    await rest(berth, 'POST', '/projects/sixty/members', {
      role_id: 3,
      member_group: { group_name: 'g42', group_type: 1, ldap_group_dn: slapd.module.groupDn('g42') },
    });

    // `many` sees `sixty` through g42 (Guest), and is no administrator.
    await signIn(page, 'many', slapd.module.password('many'));
    await expect(page).toHaveURL(/\/harbor\/projects$/);
    await expect(userMenu(page)).toHaveText(/many/);
    await expect(page.locator('tr[data-project="sixty"]')).toBeVisible();
    await expect(adminNav(page)).toHaveCount(0);
    const project = await (await page.request.get('/api/v2.0/projects/sixty')).json();
    expect(project.current_user_role_id).toBe(3);
    await screenshot(page, 'sso-ldap-many-projects');
    // All 60 groups became Berth's LDAP groups at sign-in.
    const groups = await rest(berth, 'GET', '/usergroups?page_size=100');
    const ldapGroups = groups.filter((g) => g.group_type === 1).map((g) => g.group_name);
    expect(ldapGroups).toEqual(expect.arrayContaining(slapd.module.MANY_GROUPS));
    // Signed out and in again: still fine (memberships refreshed at each sign-in).
    await signOut(page);
    await signIn(page, 'many', slapd.module.password('many'));
    await expect(page.locator('tr[data-project="sixty"]')).toBeVisible();
  } finally {
    await slapd.stop();
  }
});

test('the LDAP admin group makes dave an administrator in the console', async ({ page, berth }) => {
  const slapd = await startSlapd();
  try {
    await rest(berth, 'PUT', '/configurations', { auth_mode: 'ldap_auth', ...slapd.settings });
    await rest(berth, 'POST', '/projects', { project_name: 'private', metadata: { public: 'false' } });

    await signIn(page, 'dave', slapd.module.password('dave'));
    await expect(page).toHaveURL(/\/harbor\/projects$/);
    await expect(userMenu(page)).toHaveText(/dave/);
    const me = await (await page.request.get('/api/v2.0/users/current')).json();
    expect(me).toMatchObject({ username: 'dave', admin_role_in_auth: true });
    // As an administrator he sees every project, and the Administration menu, whose pages work for him.
    await expect(page.locator('tr[data-project="private"]')).toBeVisible();
    await expect(adminNav(page)).toBeVisible();
    await adminNav(page).getByRole('link', { name: 'Groups' }).click();
    await expect(page).toHaveURL(/\/harbor\/groups$/);
    // The groups Berth learnt at sign-in: `admins`, an LDAP group with its DN.
    await expect(page.locator('tr[data-group="admins"]')).toContainText('LDAP');
    await expect(page.locator('tr[data-group="admins"]')).toContainText(slapd.module.ADMINS_GROUP);
    await screenshot(page, 'sso-ldap-dave-admin');
  } finally {
    await slapd.stop();
  }
});

test('in LDAP mode the admin finds a directory group in New Group and imports it with its DN', async ({ page, berth }) => {
  const slapd = await startSlapd();
  try {
    await rest(berth, 'PUT', '/configurations', { auth_mode: 'ldap_auth', ...slapd.settings });
    await signIn(page);
    await page.goto('/harbor/groups');
    await page.getByTestId('new-group').click();
    const dialog = page.getByRole('dialog', { name: 'New Group' });
    await expect(dialog.getByLabel('Type')).toHaveValue('1');
    await dialog.getByLabel('Search LDAP').fill('g0');
    await dialog.getByLabel('Search LDAP').press('Enter');
    // slapd's g01..g09 match; importing g07 creates it with its DN.
    await expect(dialog.getByRole('button', { name: /^Import group g0\d$/ })).toHaveCount(9);
    await dialog.getByRole('button', { name: 'Import group g07' }).click();
    await expect(page.locator('.toast')).toContainText('Imported group g07');
    await expect(dialog).toBeHidden();
    await expect(page.locator('tr[data-group="g07"]')).toContainText(slapd.module.groupDn('g07'));
    const groups = await rest(berth, 'GET', '/usergroups?page_size=100');
    expect(groups.map((g) => [g.group_name, g.group_type, g.ldap_group_dn]))
      .toEqual([['g07', 1, slapd.module.groupDn('g07')]]);
    await screenshot(page, 'sso-ldap-group-import');
  } finally {
    await slapd.stop();
  }
});

test('an OIDC user signs in through the provider, reads the CLI secret in the profile, and pulls with skopeo', async ({ page, berth }) => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-sso-'));
  const provider = await startOidcProvider(`${berth.url}/c/oidc/callback`);
  try {
    await configureOidc(berth, provider, true);
    // An image for alice to pull, pushed by the local admin (whose password works in any mode).
    const host = new URL(berth.url).host;
    await rest(berth, 'POST', '/projects', { project_name: 'team', metadata: { public: 'false' } });
    writeOciLayout(path.join(work, 'image'), '1');
    skopeo(['copy', '--dest-tls-verify=false', '--dest-creds', `${ADMIN_USER}:${ADMIN_PASSWORD}`,
      `oci:${path.join(work, 'image')}:1`, `docker://${host}/team/app:1`], work);

    // The provider's pages, then the console as alice.
    await signInWithProvider(page, berth, provider, 'alice');
    await expect(page).toHaveURL(/\/harbor\/projects$/);
    await expect(userMenu(page)).toHaveText(/alice/);
    const me = await (await page.request.get('/api/v2.0/users/current')).json();
    expect(me).toMatchObject({ username: 'alice', email: 'alice@example.org', admin_role_in_auth: true });
    // Her provider groups became OIDC groups.
    const groups = (await rest(berth, 'GET', '/usergroups?page_size=100'))
      .map((g) => [g.group_name, g.group_type]).sort();
    expect(groups).toEqual([['berth-admins', 3], ['developers', 3]]);

    // User Profile: the CLI secret, masked until shown, equal to the one the API has.
    await userMenu(page).click();
    await page.getByRole('menuitem', { name: 'User Profile' }).click();
    const profile = page.getByRole('dialog', { name: 'User Profile' });
    await expect(profile.getByTestId('profile-username')).toHaveText('alice');
    const shown = profile.getByTestId('cli-secret');
    await expect(shown).toHaveText(/^•+$/);
    await profile.getByRole('button', { name: 'Show' }).click();
    await expect(shown).not.toHaveText(/•/);
    const secret = (await shown.textContent()).trim();
    expect(secret).toBe(me.oidc_user_meta.secret);
    expect(secret.length).toBeGreaterThanOrEqual(32);
    await screenshot(page, 'sso-oidc-profile');
    await profile.locator('footer').getByRole('button', { name: 'Cancel' }).click();
    await expect(profile).toBeHidden();

    // The secret from the profile is alice's password for registry clients.
    const login = skopeo(['login', '--tls-verify=false', '-u', 'alice', '-p', secret, host], work);
    expect(login).toContain('Login Succeeded');
    skopeo(['copy', '--src-tls-verify=false', '--src-creds', `alice:${secret}`,
      `docker://${host}/team/app:1`, `oci:${path.join(work, 'pulled')}:x`], work);
    const pulled = JSON.parse(fs.readFileSync(path.join(work, 'pulled', 'index.json'), 'utf8'));
    expect(pulled.manifests.map((m) => m.annotations['org.opencontainers.image.ref.name'])).toEqual(['x']);
    // A wrong secret is refused.
    expect(() => skopeo(['login', '--tls-verify=false', '-u', 'alice', '-p', `${secret}x`, host], work)).toThrow();

    // Regenerated in the profile: the new secret works at once, the old one no longer.
    await userMenu(page).click();
    await page.getByRole('menuitem', { name: 'User Profile' }).click();
    await profile.getByRole('button', { name: 'Regenerate', exact: true }).click();
    await profile.getByRole('button', { name: 'Regenerate secret' }).click();
    await expect(page.locator('.toast')).toContainText('A new CLI secret was set');
    await expect(shown).not.toHaveText(/•/);
    const renewed = (await shown.textContent()).trim();
    expect(renewed).not.toBe(secret);
    expect(renewed).toMatch(/^(?=.*[A-Z])(?=.*[a-z])(?=.*[0-9])[A-Za-z0-9]{32}$/);
    expect((await (await page.request.get('/api/v2.0/users/current')).json()).oidc_user_meta.secret).toBe(renewed);
    expect(skopeo(['login', '--tls-verify=false', '-u', 'alice', '-p', renewed, host], work)).toContain('Login Succeeded');
    expect(() => skopeo(['login', '--tls-verify=false', '-u', 'alice', '-p', secret, host], work)).toThrow();
  } finally {
    await provider.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
});

test('the OIDC admin group makes alice an administrator in the console, with her groups in Groups', async ({ page, berth }) => {
  const provider = await startOidcProvider(`${berth.url}/c/oidc/callback`);
  try {
    await configureOidc(berth, provider, true);
    await rest(berth, 'POST', '/projects', { project_name: 'team', metadata: { public: 'false' } });

    await signInWithProvider(page, berth, provider, 'alice');
    await expect(page).toHaveURL(/\/harbor\/projects$/);
    await expect(userMenu(page)).toHaveText(/alice/);
    const me = await (await page.request.get('/api/v2.0/users/current')).json();
    expect(me).toMatchObject({ username: 'alice', admin_role_in_auth: true });
    // With her CLI secret (Basic), alice is an administrator: she sees the private project.
    const basicList = await fetch(`${berth.url}/api/v2.0/projects?page_size=100`, {
      headers: { Authorization: basic('alice', me.oidc_user_meta.secret) },
    });
    expect((await basicList.json()).map((p) => p.name)).toContain('team');
    // So she is in the console too: every project, the Administration menu, and her groups in Groups.
    await expect(page.locator('tr[data-project="team"]')).toBeVisible();
    await expect(adminNav(page)).toBeVisible();
    await adminNav(page).getByRole('link', { name: 'Groups' }).click();
    await expect(page).toHaveURL(/\/harbor\/groups$/);
    for (const group of ['developers', 'berth-admins']) {
      await expect(page.locator(`tr[data-group="${group}"]`)).toContainText('OIDC');
    }
    await screenshot(page, 'sso-oidc-groups');
  } finally {
    await provider.stop();
  }
});

test('without auto-onboarding, an OIDC user without a name chooses one and enters the console', async ({ page, berth }) => {
  const provider = await startOidcProvider(`${berth.url}/c/oidc/callback`);
  try {
    await configureOidc(berth, provider, false);
    await signInWithProvider(page, berth, provider, 'nameless');
    await expect(page).toHaveURL(/\/oidc-onboard\?username=$/);
    const name = page.getByLabel('Username');
    await expect(name).toHaveValue('');
    await screenshot(page, 'sso-oidc-onboard');

    // The local admin's name is taken: the server's refusal is explained, and the page stays.
    await name.fill(ADMIN_USER);
    const [taken] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/c/oidc/onboard') && r.request().method() === 'POST'),
      page.getByRole('button', { name: 'SAVE' }).click(),
    ]);
    expect(taken.status()).toBe(409);
    await expect(page.getByRole('alert')).toHaveText('This user name is taken; choose another.');
    await expect(page).toHaveURL(/\/oidc-onboard/);

    await name.fill('chosen');
    const [saved] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/c/oidc/onboard') && r.request().method() === 'POST'),
      page.getByRole('button', { name: 'SAVE' }).click(),
    ]);
    expect(saved.status()).toBe(200);
    await page.waitForURL(/\/harbor\/projects$/);
    await expect(userMenu(page)).toHaveText(/chosen/);
    const me = await (await page.request.get('/api/v2.0/users/current')).json();
    expect(me).toMatchObject({ username: 'chosen', email: 'nameless@example.org', admin_role_in_auth: false });
    await screenshot(page, 'sso-oidc-onboarded');
  } finally {
    await provider.stop();
  }
});
