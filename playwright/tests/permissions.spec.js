// What each role sees: project tabs and buttons follow Harbor's role matrix (docs/reference/harbor-rbac.md) as
// `GET /users/current/permissions` reports it; a direct link to what a role may not use shows a "no permission"
// page, and an unknown project one "project not found" page.
const { test, expect, signIn, rest, ADMIN_PASSWORD } = require('./fixtures');

const PROJECT = 'perm-e2e';
const PASSWORD = 'Passw0rdRole';
const ALL_TABS = ['Summary', 'Repositories', 'Members', 'Labels', 'Policy', 'Robot Accounts', 'Webhooks', 'Logs', 'Configuration'];
// Harbor's matrix: only project admins list the project's audit log, project admins and maintainers the
// immutable tag rules (the Policy tab) and the webhook policies; every member reads the rest (labels too: guests
// and up).
const MEMBER_TABS = ['Summary', 'Repositories', 'Members', 'Labels', 'Robot Accounts', 'Configuration'];
const MAINTAINER_TABS = ['Summary', 'Repositories', 'Members', 'Labels', 'Policy', 'Robot Accounts', 'Webhooks', 'Configuration'];
const ADMIN_PAGES = [
  '/harbor/users', '/harbor/groups', '/harbor/robot-accounts', '/harbor/registries', '/harbor/replications', '/harbor/labels',
  '/harbor/logs', '/harbor/configs/auth', '/harbor/configs/setting',
];

async function signInAs(page, user, password) {
  await page.context().clearCookies();
  await signIn(page, user, password);
  await expect(page).toHaveURL(/\/harbor\/projects$/);
}

async function tabs(page) {
  const nav = page.getByRole('navigation', { name: 'Project' });
  await expect(nav.getByRole('link', { name: 'Summary' })).toBeVisible();
  return nav.getByRole('link').allTextContents();
}

async function expectNoPermission(page) {
  await expect(page.getByRole('heading', { name: 'No permission', exact: true })).toBeVisible();
  await expect(page.getByRole('alert')).toHaveCount(0);
}

test('each role sees only the tabs and buttons it may use, and a no-permission page for the rest', async ({ page, berth }) => {
  test.setTimeout(120_000);
  await rest(berth, 'POST', '/projects', { project_name: PROJECT, metadata: { public: 'false' } });
  const { project_id: id } = await rest(berth, 'GET', `/projects/${PROJECT}`);
  const roles = [['maintainer1', 4], ['developer1', 2], ['guest1', 3]];
  for (const [username, role] of [...roles, ['outsider1', null]]) {
    await rest(berth, 'POST', '/users', {
      username, password: PASSWORD, email: `${username}@example.com`, realname: username,
    });
    if (role) await rest(berth, 'POST', `/projects/${PROJECT}/members`, { role_id: role, member_user: { username } });
  }

  // The project admin (here the system admin who created it) sees every tab, and may save the configuration.
  await signIn(page);
  await page.goto(`/harbor/projects/${id}/configs`);
  expect(await tabs(page)).toEqual(ALL_TABS);
  await expect(page.getByRole('button', { name: 'Save' })).toBeVisible();

  for (const [username, role] of roles) {
    await signInAs(page, username, PASSWORD);
    await page.goto(`/harbor/projects/${id}/summary`);
    expect(await tabs(page), username).toEqual(role === 4 ? MAINTAINER_TABS : MEMBER_TABS);

    // Configuration: shown read-only, with no Save or Cancel to press.
    await page.getByRole('navigation', { name: 'Project' }).getByRole('link', { name: 'Configuration' }).click();
    await expect(page.getByLabel('Public', { exact: true })).toBeDisabled();
    await expect(page.getByText('Only project administrators may change the configuration.')).toBeVisible();
    await expect(page.getByRole('button', { name: 'Save' })).toHaveCount(0);
    await expect(page.getByRole('button', { name: 'Cancel' })).toHaveCount(0);

    // Members: listed, but only project admins add members.
    await page.getByRole('navigation', { name: 'Project' }).getByRole('link', { name: 'Members' }).click();
    await expect(page.locator(`tr[data-member="${username}"]`)).toBeVisible();
    await expect(page.getByRole('button', { name: '+ User' })).toHaveCount(0);

    // Robot accounts: listed, created only by project admins.
    await page.getByRole('navigation', { name: 'Project' }).getByRole('link', { name: 'Robot Accounts' }).click();
    await expect(page.getByRole('button', { name: 'Refresh', exact: true })).toBeVisible();
    await expect(page.getByRole('button', { name: '+ New Robot Account' })).toHaveCount(0);

    // Repositories: the push commands only for roles that may push (not a Guest).
    await page.getByRole('navigation', { name: 'Project' }).getByRole('link', { name: 'Repositories' }).click();
    await expect(page.getByRole('button', { name: 'Push Command', exact: true })).toHaveCount(role === 3 ? 0 : 1);

    // A direct link to the Policy tab: open to a maintainer, a no-permission page for the others.
    await page.goto(`/harbor/projects/${id}/tag-strategy`);
    if (role === 4) {
      await expect(page.getByRole('button', { name: '+ Add Rule' })).toBeVisible();
    } else {
      await expectNoPermission(page);
    }

    // A direct link to the Logs tab: a no-permission page, not the server's refusal.
    await page.goto(`/harbor/projects/${id}/logs`);
    await expectNoPermission(page);
    await expect(page).toHaveTitle(`No permission - ${PROJECT} - Berth`);

    // No Administration in the navigation, and a no-permission page for its direct links.
    const nav = page.getByRole('navigation', { name: 'Main' });
    await expect(nav.getByRole('link', { name: 'Projects' })).toBeVisible();
    await expect(nav.getByRole('link', { name: 'Users' })).toHaveCount(0);
  }

  // A signed-in user who is no member: no administration pages, and the private project is not found.
  await signInAs(page, 'outsider1', PASSWORD);
  for (const path of ADMIN_PAGES) {
    await page.goto(path);
    await expectNoPermission(page);
    await expect(page.getByRole('link', { name: 'Go to Projects' })).toBeVisible();
  }
  await page.goto(`/harbor/projects/${id}/summary`);
  await expect(page.getByRole('heading', { name: 'Project not found' })).toBeVisible();
  await expect(page.getByRole('navigation', { name: 'Project' })).toHaveCount(0);
});

test('an unknown project is one clear "project not found" page', async ({ page }) => {
  await signIn(page);
  for (const path of ['/harbor/projects/9999/summary', '/harbor/projects/9999/members', '/harbor/projects/nope']) {
    await page.goto(path);
    await expect(page.getByRole('heading', { name: 'Project not found' })).toBeVisible();
    await expect(page.locator('main h1')).toHaveCount(1);
    await expect(page.getByRole('alert')).toHaveCount(0);
    await expect(page.getByRole('navigation', { name: 'Project' })).toHaveCount(0);
    await expect(page.locator('.project-card, table')).toHaveCount(0);
    await expect(page).toHaveTitle('Project not found - Berth');
    await page.getByRole('link', { name: 'Go to Projects' }).click();
    await expect(page).toHaveURL(/\/harbor\/projects$/);
  }
});

test('a proxy cache’s patterns are read-only for its project admin, who still saves the rest', async ({ page, berth }) => {
  const proxy = 'patterns-e2e';
  await rest(berth, 'POST', '/registries', {
    name: 'patterns-upstream', type: 'docker-registry', url: 'https://registry.example.com', insecure: false,
  });
  const endpoint = (await rest(berth, 'GET', '/registries')).find((r) => r.name === 'patterns-upstream');
  await rest(berth, 'POST', '/projects', {
    project_name: proxy, registry_id: endpoint.id, metadata: { public: 'false', proxy_include: 'library/**' },
  });
  const { project_id: id } = await rest(berth, 'GET', `/projects/${proxy}`);
  await rest(berth, 'POST', '/users', {
    username: 'proxyadmin1', password: PASSWORD, email: 'proxyadmin1@example.com', realname: 'proxyadmin1',
  });
  await rest(berth, 'POST', `/projects/${proxy}/members`, { role_id: 1, member_user: { username: 'proxyadmin1' } });
  const note = 'Only a system administrator sets these patterns';

  // The project admin: the patterns as saved, read-only, saying who sets them; the public flag is still theirs.
  await signInAs(page, 'proxyadmin1', PASSWORD);
  await page.goto(`/harbor/projects/${id}/configs`);
  const include = page.getByLabel('Proxy Cache: include');
  const exclude = page.getByLabel('Proxy Cache: exclude');
  await expect(include).toHaveValue('library/**');
  await expect(include).not.toBeEditable();
  await expect(exclude).not.toBeEditable();
  await expect(include).toHaveAccessibleDescription(new RegExp(note));
  await expect(page.getByText(note)).toBeVisible();
  await page.getByLabel('Public', { exact: true }).check();
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByText('Configuration saved')).toBeVisible();
  await expect(page.getByRole('alert')).toHaveCount(0);
  let saved = await rest(berth, 'GET', `/projects/${id}`);
  expect(saved.metadata).toMatchObject({ public: 'true', proxy_include: 'library/**' });

  // A system administrator changes them.
  await signInAs(page, 'admin', ADMIN_PASSWORD);
  await page.goto(`/harbor/projects/${id}/configs`);
  await expect(include).toBeEditable();
  await expect(page.getByText(note)).toBeHidden();
  await include.fill('library/**,team/*');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByText('Configuration saved')).toBeVisible();
  saved = await rest(berth, 'GET', `/projects/${id}`);
  expect(saved.metadata.proxy_include).toBe('library/**,team/*');
});
