// Administration → Clean Up (/harbor/clean-up): garbage collection and log rotation, each with its schedule, a
// dry run, a run now, the history of runs reaching Success and each run's log. Every test here also fails on an
// uncaught page error or a Content-Security-Policy violation (fixtures.js).
const { test, expect, signIn, rest, pushTaggedImage } = require('./fixtures');

// A collection keeps what was linked or written within its grace (two hours by default); with none, the blobs
// of a deleted image go at once. The berth each test starts gets this environment (fixtures.js).
process.env.BERTH_GC__BLOB_GRACE_SECS = '0';

/// The history's rows, newest first, and the cell of `key` in `row`.
const historyRows = (page) => page.getByRole('table', { name: 'History' }).locator('tbody tr');
const cell = (row, key) => row.locator(`td[data-key="${key}"]`);

/// Clicks `button`, sees `toast`, and waits until the history holds `runs` rows, the newest (returned) a
/// success, a dry run or not as `dryRun` says.
async function runToSuccess(page, button, toast, runs, dryRun) {
  await page.getByRole('button', { name: button }).click();
  await expect(page.getByText(toast)).toBeVisible();
  await expect(historyRows(page)).toHaveCount(runs);
  const newest = historyRows(page).first();
  await expect(cell(newest, 'job_status')).toHaveText('Success', { timeout: 30_000 });
  await expect(cell(newest, 'job_parameters.dry_run')).toHaveText(dryRun ? 'Yes' : 'No');
  return newest;
}

test('GC: a dry run and a collection reach Success, each run has its log, a bad schedule is refused', async ({ page, berth }) => {
  test.setTimeout(90_000);
  // Something to collect: an image whose repository is deleted leaves its layer and config unreferenced.
  await pushTaggedImage(berth, 'library/doomed', 'v1', 'an image to collect');
  await rest(berth, 'DELETE', '/projects/library/repositories/doomed');

  await signIn(page);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Clean Up' }).click();
  await expect(page).toHaveURL(/\/harbor\/clean-up\/gc$/);
  await expect(page).toHaveTitle('Clean Up - Berth');
  await expect(historyRows(page)).toHaveText(['No runs yet']);

  const dry = await runToSuccess(page, 'Dry Run', 'Dry run started', 1, true);
  await expect(cell(dry, 'job_kind')).toHaveText('MANUAL');
  const run = await runToSuccess(page, 'GC Now', 'Garbage collection started', 2, false);

  // The collection's log: what it freed.
  await run.getByRole('button', { name: 'Log' }).click();
  const dialog = page.getByRole('dialog');
  await expect(dialog.getByRole('heading')).toHaveText(/^Log of run \d+$/);
  await expect(page.getByTestId('job-log')).toContainText(/freed [1-9]\d* blobs/);
  await dialog.locator('.dialog-footer').getByRole('button', { name: 'Close' }).click();
  // The dry run's log says what it would have freed.
  await historyRows(page).nth(1).getByRole('button', { name: 'Log' }).click();
  await expect(page.getByTestId('job-log')).toContainText(/dry run.*would free/s);
  await page.getByRole('dialog').locator('.dialog-footer').getByRole('button', { name: 'Close' }).click();

  // A schedule: the server's refusal of a bad cron is shown; a daily one is kept, with its next run.
  await page.getByLabel('Schedule').selectOption('Custom');
  await page.getByLabel('Cron').fill('99 99 99 * * *');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.locator('.toast-error')).toBeVisible();
  expect((await rest(berth, 'GET', '/system/gc/schedule')).schedule.type).toBe('None');
  await page.getByLabel('Schedule').selectOption('Daily');
  await page.getByTestId('delete-untagged').check();
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByText('Schedule saved')).toBeVisible();
  await expect(page.getByText(/^Next run: /)).toBeVisible();
  const saved = await rest(berth, 'GET', '/system/gc/schedule');
  expect(saved.schedule.type).toBe('Daily');
  expect(JSON.parse(saved.job_parameters).delete_untagged).toBe(true);
  // Read back on a fresh load.
  await page.reload();
  await expect(page.getByLabel('Schedule')).toHaveValue('Daily');
  await expect(page.getByTestId('delete-untagged')).toBeChecked();
});

test('Log Rotation: a dry run and a purge reach Success, with their logs', async ({ page, berth }) => {
  test.setTimeout(90_000);
  await signIn(page);
  await page.goto('/harbor/clean-up');
  await page.getByRole('link', { name: 'Log Rotation' }).click();
  await expect(page).toHaveURL(/\/harbor\/clean-up\/log-rotation$/);
  await page.getByLabel('Keep logs of the last (hours)').fill('1');
  await page.getByRole('checkbox', { name: 'Login', exact: true }).check();

  await runToSuccess(page, 'Dry Run', 'Dry run started', 1, true);
  const purge = await runToSuccess(page, 'Purge Now', 'Log purge started', 2, false);
  await expect(cell(purge, 'job_parameters')).toContainText('"audit_retention_hour":1');
  await expect(cell(purge, 'job_parameters')).toContainText('login');
  await purge.getByRole('button', { name: 'Log' }).click();
  await expect(page.getByTestId('job-log')).toContainText('audit log entries in all');
  await page.getByRole('dialog').locator('.dialog-footer').getByRole('button', { name: 'Close' }).click();
  await historyRows(page).nth(1).getByRole('button', { name: 'Log' }).click();
  await expect(page.getByTestId('job-log')).toContainText('nothing was deleted');
});

test('Clean Up is for system administrators only', async ({ page, berth }) => {
  await rest(berth, 'POST', '/users', {
    username: 'carol', password: 'Passw0rdCarol', email: 'carol@example.com', realname: 'Carol',
  });
  await signIn(page, 'carol', 'Passw0rdCarol');
  await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Clean Up' })).toHaveCount(0);
  for (const path of ['/harbor/clean-up/gc', '/harbor/job-service-dashboard/pending-jobs']) {
    await page.goto(path);
    await expect(page.getByRole('heading', { name: 'No permission' })).toBeVisible();
  }
});
