// Administration → Replications: a push-based rule made in the console's dialog copies a pushed image to a
// registry endpoint (a `harbor` endpoint pointing at the Berth under test itself: a loopback endpoint may be
// replicated to), "Replicate" starts it, and its execution reaches Succeed with its task and the task's log;
// the rule is then edited and deleted.
const {
  test, expect, signIn, screenshot, rest, pushTaggedImage, act, ADMIN_USER, ADMIN_PASSWORD,
} = require('./fixtures');

test('a push-based rule is created, run, edited and deleted in the console', async ({ page, berth }) => {
  await rest(berth, 'POST', '/projects', { project_name: 'src', metadata: { public: 'false' } });
  const digest = await pushTaggedImage(berth, 'src/app', 'v1');
  await rest(berth, 'POST', '/registries', {
    name: 'self',
    type: 'harbor',
    url: berth.url,
    credential: { type: 'basic', access_key: ADMIN_USER, access_secret: ADMIN_PASSWORD },
  });

  await signIn(page);
  await expect(page).toHaveURL(/\/harbor\/projects$/);
  const nav = page.getByRole('navigation', { name: 'Main' });
  // Harbor's order: Registries, then Replications. The admin's links appear once the console knows who signed
  // in, so wait for them before reading the list.
  await expect(nav.getByRole('link', { name: 'Replications' })).toBeVisible();
  const links = await nav.getByRole('link').allTextContents();
  expect(links.indexOf('Replications')).toBe(links.indexOf('Registries') + 1);
  await nav.getByRole('link', { name: 'Replications' }).click();
  await expect(page).toHaveURL(/\/harbor\/replications$/);
  await expect(page).toHaveTitle('Replications - Berth');
  await expect(page.getByRole('heading', { name: 'Replications', level: 1 })).toBeVisible();
  await expect(page.locator('section.replications-page')).toContainText('No replication rules found');

  // The dialog checks what it can, and shows the server's message for the rest.
  await page.getByRole('button', { name: '+ New Replication Rule' }).click();
  const dialog = page.getByRole('dialog', { name: 'New Replication Rule' });
  await dialog.getByLabel('Name', { exact: true }).fill('to-copy');
  await dialog.getByRole('button', { name: 'OK' }).click();
  await expect(dialog.getByRole('alert')).toContainText('Choose the destination registry');
  await dialog.getByLabel('Destination registry').selectOption({ label: `self-${berth.url}` });
  await dialog.getByLabel('Name filter').fill('[');
  await dialog.getByRole('button', { name: 'OK' }).click();
  await expect(dialog.getByRole('alert')).not.toBeEmpty();
  await dialog.getByLabel('Name filter').fill('src/**');
  await dialog.getByLabel('Description').fill('copy src');
  await dialog.getByLabel('Destination namespace').fill('copy');
  await expect(dialog.getByLabel('Flattening')).toHaveValue('-1');
  // Event-based triggers exist for push-based rules only.
  await expect(dialog.getByLabel('Trigger Mode').locator('option')).toHaveText(['Manual', 'Scheduled', 'Event Based']);
  await dialog.getByLabel('Replication mode').selectOption('pull');
  await expect(dialog.getByLabel('Trigger Mode').locator('option')).toHaveText(['Manual', 'Scheduled']);
  await expect(dialog.getByLabel('Source registry')).toBeVisible();
  await dialog.getByLabel('Replication mode').selectOption('push');
  await dialog.getByLabel('Destination registry').selectOption({ label: `self-${berth.url}` });
  await dialog.getByLabel('Trigger Mode').selectOption('event_based');
  await expect(dialog.getByLabel('Delete remote resources when locally deleted')).toBeVisible();
  await dialog.getByLabel('Trigger Mode').selectOption('manual');
  await expect(dialog.getByLabel('Delete remote resources when locally deleted')).toBeHidden();
  await dialog.getByRole('button', { name: 'OK' }).click();
  await expect(dialog).toBeHidden();

  const row = page.locator('tr[data-rule="to-copy"]');
  await expect(row).toContainText('Enabled');
  await expect(row).toContainText('Local');
  await expect(row).toContainText('Push-based');
  await expect(row).toContainText('self : copy');
  await expect(row).toContainText('Manual');
  await expect(row).toContainText('copy src');
  const [stored] = await rest(berth, 'GET', '/replication/policies');
  expect(stored.filters).toEqual([{ type: 'name', value: 'src/**', decoration: 'matches' }]);
  expect(stored.dest_namespace_replace_count).toBe(-1);
  expect(stored.override).toBe(true);

  // A second rule of the same name: the server's 409 message in the dialog.
  await page.getByRole('button', { name: '+ New Replication Rule' }).click();
  await dialog.getByLabel('Name', { exact: true }).fill('to-copy');
  await dialog.getByLabel('Destination registry').selectOption({ label: `self-${berth.url}` });
  await dialog.getByRole('button', { name: 'OK' }).click();
  await expect(dialog.getByRole('alert')).toContainText('to-copy');
  await dialog.getByRole('button', { name: 'Cancel' }).click();

  // Replicate: asks first, then the execution shows and reaches Succeed.
  const replicate = page.getByRole('button', { name: 'Replicate', exact: true });
  await expect(replicate).toBeDisabled();
  await row.locator('td.select input[type="checkbox"]').check();
  await replicate.click();
  const confirm = page.getByRole('dialog', { name: 'Replicate' });
  await expect(confirm).toContainText('to-copy');
  await confirm.getByRole('button', { name: 'Replicate' }).click();
  await expect(confirm).toBeHidden();
  const executions = page.locator('section.replication-executions');
  await expect(executions.getByRole('heading', { name: 'Executions of to-copy' })).toBeVisible();
  const execution = executions.locator('tr[data-execution]').first();
  await expect(execution.locator('td.execution-status')).toHaveText('Succeed', { timeout: 30_000 });
  await expect(execution.locator('td.execution-rate')).toHaveText('100% (1/1)');
  await expect(execution).toContainText('Manual');

  // The copy is there, with the same digest.
  const copied = await rest(berth, 'GET', '/projects/copy/repositories/app/artifacts?with_tag=true');
  expect(copied.map((a) => a.digest)).toEqual([digest]);

  // The execution's tasks, each with its log.
  await execution.getByRole('button', { name: /Tasks of execution/ }).click();
  const tasks = page.locator('section.replication-tasks');
  const task = tasks.locator('tr[data-task]');
  await expect(task).toHaveCount(1);
  await expect(task).toContainText('src/app');
  await expect(task).toContainText('copy/app');
  await expect(task).toContainText('copy');
  await expect(task.locator('td.task-status')).toHaveText('Succeed');
  const log = task.getByRole('link', { name: 'Logs' });
  await expect(log).toHaveAttribute('target', '_blank');
  const href = await log.getAttribute('href');
  expect(href).toMatch(/^\/api\/v2\.0\/replication\/executions\/\d+\/tasks\/\d+\/log$/);
  const [popup] = await Promise.all([page.waitForEvent('popup'), log.click()]);
  await popup.waitForLoadState();
  expect(await popup.locator('body').innerText()).toContain('copy/app');
  await popup.close();
  await screenshot(page, 'replications');

  // Edit: the dialog starts from the rule; the change is stored.
  await act(page, row, 'Edit');
  const edit = page.getByRole('dialog', { name: 'Edit Replication Rule' });
  await expect(edit.getByLabel('Name', { exact: true })).toHaveValue('to-copy');
  await expect(edit.getByLabel('Destination namespace')).toHaveValue('copy');
  await expect(edit.getByLabel('Name filter')).toHaveValue('src/**');
  await edit.getByLabel('Description').fill('edited');
  await edit.getByLabel('Flattening').selectOption({ label: 'Flatten 1 Level' });
  await edit.getByLabel('Enable rule').uncheck();
  await edit.getByRole('button', { name: 'OK' }).click();
  await expect(edit).toBeHidden();
  await expect(row).toContainText('Disabled');
  await expect(row).toContainText('edited');
  const [changed] = await rest(berth, 'GET', '/replication/policies');
  expect(changed.dest_namespace_replace_count).toBe(1);
  expect(changed.enabled).toBe(false);

  // A disabled rule cannot be started: the server says so.
  await row.locator('td.select input[type="checkbox"]').check();
  await replicate.click();
  await confirm.getByRole('button', { name: 'Replicate' }).click();
  await expect(confirm.getByRole('alert')).toContainText('disabled');
  await confirm.getByRole('button', { name: 'Cancel' }).click();

  // Delete.
  await act(page, row, 'Delete');
  const remove = page.getByRole('dialog', { name: 'Delete Replication Rule' });
  await expect(remove).toContainText('to-copy');
  await remove.getByRole('button', { name: 'Delete' }).click();
  await expect(row).toHaveCount(0);
  expect(await rest(berth, 'GET', '/replication/policies')).toEqual([]);
});
