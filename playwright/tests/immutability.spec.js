// The project's Policy tab, Tag Immutability: a rule added in the console locks a tag (the lock shows in the
// artifact list and on the artifact page), removing the tag in the console is refused with the server's
// reason, and once the rule is disabled the tag goes.
const {
  test, expect, signIn, screenshot, act, rest, pushTaggedImage,
} = require('./fixtures');

test('an immutability rule locks a tag until it is disabled', async ({ page, berth }) => {
  await rest(berth, 'POST', '/projects', { project_name: 'proj', metadata: { public: 'false' } });
  const project = await rest(berth, 'GET', '/projects/proj');
  const digest = await pushTaggedImage(berth, 'proj/app', 'v1');
  await pushTaggedImage(berth, 'proj/app', 'latest');

  await signIn(page);
  await expect(page).toHaveURL(/\/harbor\/projects$/);
  await page.goto(`/harbor/projects/${project.project_id}/summary`);
  await page.getByRole('navigation', { name: 'Project' }).getByRole('link', { name: 'Policy' }).click();
  await expect(page).toHaveURL(new RegExp(`/harbor/projects/${project.project_id}/tag-strategy$`));
  await expect(page.getByRole('heading', { name: 'Tag Immutability' })).toBeVisible();
  await expect(page.locator('table.immutable-rules')).toContainText('No immutability rules');

  // Harbor's dialog: repositories matching `app`, tags matching `v1,v2` (stored as one pattern, {v1,v2}).
  await page.getByRole('button', { name: '+ Add Rule' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add Tag Immutability Rule' });
  await dialog.getByLabel('For the repositories', { exact: true }).fill('app');
  await dialog.getByLabel('Tags', { exact: true }).fill('v1, v2');
  await dialog.getByRole('button', { name: 'OK' }).click();
  await expect(dialog).toBeHidden();
  const rule = page.locator('table.immutable-rules tr[data-rule]');
  await expect(rule).toHaveCount(1);
  await expect(rule).toContainText('For the repositories matching app, tags matching v1,v2');
  await expect(rule.locator('.rule-status')).toHaveText('Enabled');
  const [stored] = await rest(berth, 'GET', '/projects/proj/immutabletagrules');
  expect(stored.tag_selectors[0].pattern).toBe('{v1,v2}');
  await screenshot(page, 'policy-immutability');

  // The lock shows beside v1, not beside latest, in the artifact list and on the artifact page.
  await page.goto(`/harbor/projects/${project.project_id}/repositories/app/artifacts-tab`);
  const row = page.locator(`tr.artifact-row[data-digest="${digest}"]`);
  await expect(row.locator('.tag-chip', { hasText: 'v1' }).getByRole('img', { name: 'Immutable' })).toBeVisible();
  await expect(page.locator('tr.artifact-row .tag-chip', { hasText: 'latest' }).locator('.tag-lock')).toHaveCount(0);
  await row.getByRole('link').first().click();
  const tags = page.locator('table.tag-list');
  const v1 = tags.locator('tr[data-tag="v1"]');
  await expect(v1.getByRole('img', { name: 'Immutable' })).toBeVisible();

  // Removing v1 is refused, and says why; the tag stays.
  await act(page, v1, 'Remove Tag');
  const confirm = page.getByRole('dialog', { name: 'Remove Tag' });
  await confirm.getByRole('button', { name: 'Remove' }).click();
  await expect(confirm.getByRole('alert')).toContainText('configured as immutable, cannot be deleted');
  await screenshot(page, 'immutable-tag-refused');
  await confirm.getByRole('button', { name: 'Cancel' }).click();
  await expect(v1).toBeVisible();

  // Disable the rule in the Policy tab; then the removal goes through.
  await page.goto(`/harbor/projects/${project.project_id}/tag-strategy`);
  await rule.getByRole('button', { name: 'Disable' }).click();
  await expect(rule.locator('.rule-status')).toHaveText('Disabled');
  await page.goBack();
  await expect(v1).toBeVisible();
  await expect(v1.getByRole('img', { name: 'Immutable' })).toHaveCount(0);
  await act(page, v1, 'Remove Tag');
  await confirm.getByRole('button', { name: 'Remove' }).click();
  await expect(confirm).toBeHidden();
  await expect(v1).toHaveCount(0);

  // Edit and delete the rule.
  await page.goto(`/harbor/projects/${project.project_id}/tag-strategy`);
  await rule.getByRole('button', { name: 'Edit' }).click();
  const edit = page.getByRole('dialog', { name: 'Edit Tag Immutability Rule' });
  await expect(edit.getByLabel('Tags', { exact: true })).toHaveValue('v1,v2');
  await edit.getByLabel('Tags', { exact: true }).fill('release-*');
  await edit.getByRole('button', { name: 'OK' }).click();
  await expect(rule).toContainText('tags matching release-*');
  await rule.getByRole('button', { name: 'Delete' }).click();
  await page.getByRole('dialog', { name: 'Delete Rule' }).getByRole('button', { name: 'Delete' }).click();
  await expect(page.locator('table.immutable-rules')).toContainText('No immutability rules');
});

test('roles without the immutable-tag permissions see no Policy tab', async ({ page, berth }) => {
  await rest(berth, 'POST', '/projects', { project_name: 'proj', metadata: { public: 'false' } });
  const project = await rest(berth, 'GET', '/projects/proj');
  await rest(berth, 'POST', '/users', {
    username: 'dev', password: 'Developer1', email: 'dev@example.com', realname: 'Dev',
  });
  await rest(berth, 'POST', '/projects/proj/members', { role_id: 2, member_user: { username: 'dev' } });
  await signIn(page, 'dev', 'Developer1');
  await page.goto(`/harbor/projects/${project.project_id}/summary`);
  const tabs = page.getByRole('navigation', { name: 'Project' });
  await expect(tabs.getByRole('link', { name: 'Members' })).toBeVisible();
  await expect(tabs.getByRole('link', { name: 'Policy' })).toHaveCount(0);
  await page.goto(`/harbor/projects/${project.project_id}/tag-strategy`);
  await expect(page.getByText(/permission/i).first()).toBeVisible();
});
