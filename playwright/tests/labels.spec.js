// Labels: Administration → Labels makes a global label, a project's Labels tab lists its own, the artifacts
// list puts a label on an artifact through the Action menu, shows it as a chip, and filters by it.
const { test, expect, signIn, screenshot, act, rest, pushTaggedImage } = require('./fixtures');

test('a label is made, put on an artifact and filtered by', async ({ page, berth }) => {
  await rest(berth, 'POST', '/projects', { project_name: 'lab', metadata: { public: 'false' } });
  const project = await rest(berth, 'GET', '/projects/lab');
  const v1 = await pushTaggedImage(berth, 'lab/app', 'v1', 'one');
  const v2 = await pushTaggedImage(berth, 'lab/app', 'v2', 'two');
  await rest(berth, 'POST', '/labels', { name: 'qa', scope: 'p', project_id: project.project_id });

  await signIn(page);
  await expect(page).toHaveURL(/\/harbor\/projects$/);

  // Administration → Labels: a new global label.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Labels' }).click();
  await expect(page).toHaveURL(/\/harbor\/labels$/);
  await page.getByTestId('new-label').click();
  const dialog = page.getByRole('dialog', { name: 'New Label' });
  await dialog.getByLabel('Name').fill('release');
  await dialog.getByLabel('Description').fill('shipped builds');
  await dialog.getByRole('button', { name: 'OK' }).click();
  await expect(dialog).toBeHidden();
  await expect(page.locator('tr[data-label-row="release"]')).toContainText('shipped builds');
  // The same name again is refused, with the server's reason.
  await page.getByTestId('new-label').click();
  await dialog.getByLabel('Name').fill('release');
  await dialog.getByRole('button', { name: 'OK' }).click();
  await expect(dialog.getByRole('alert')).toContainText('already exists');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await screenshot(page, 'labels-global');

  // The project's Labels tab: its own label only.
  await page.goto(`/harbor/projects/${project.project_id}/labels`);
  await expect(page.locator('tr[data-label-row="qa"]')).toBeVisible();
  await expect(page.locator('tr[data-label-row="release"]')).toHaveCount(0);

  // The artifacts list: put "release" on v1.
  await page.goto(`/harbor/projects/${project.project_id}/repositories/app/artifacts-tab`);
  const row1 = page.locator(`tr.artifact-row[data-digest="${v1}"]`);
  const row2 = page.locator(`tr.artifact-row[data-digest="${v2}"]`);
  await expect(page.locator('tr.artifact-row')).toHaveCount(2);
  await act(page, row1, 'Labels');
  const labels = page.getByRole('dialog', { name: 'Labels' });
  await labels.getByLabel('Label release').check();
  await expect(labels.getByLabel('Label release')).toBeChecked();
  await labels.getByRole('button', { name: 'Done' }).click();
  await expect(row1.locator('.label-chip')).toHaveText(['release']);
  await expect(row2.locator('.label-chip')).toHaveCount(0);
  await screenshot(page, 'labels-artifacts');

  // Filter by it: only v1; all labels again: both.
  const filter = page.getByLabel('Filter by label');
  await filter.selectOption({ label: 'release' });
  await expect(page.locator('tr.artifact-row')).toHaveCount(1);
  await expect(row1).toBeVisible();
  await filter.selectOption({ label: 'qa' });
  await expect(page.getByText('No artifacts found')).toBeVisible();
  await filter.selectOption({ label: 'All labels' });
  await expect(page.locator('tr.artifact-row')).toHaveCount(2);

  // Taking it off again.
  await act(page, row1, 'Labels');
  await labels.getByLabel('Label release').uncheck();
  await expect(labels.getByLabel('Label release')).not.toBeChecked();
  await labels.getByRole('button', { name: 'Done' }).click();
  await expect(row1.locator('.label-chip')).toHaveCount(0);
});
