// Administration → Job Service Dashboard (/harbor/job-service-dashboard): the job queues (pause, resume), the
// schedules (and pausing every queue), the worker pools and workers, and a job's log. Every test here also fails
// on an uncaught page error or a Content-Security-Policy violation (fixtures.js).
const { test, expect, signIn, rest } = require('./fixtures');

/// Runs a garbage collection now through the REST API and waits for it to end; returns its id (a job id).
async function collect(berth) {
  await rest(berth, 'POST', '/system/gc/schedule', {
    schedule: { type: 'Manual' }, parameters: { dry_run: true },
  });
  const [run] = await rest(berth, 'GET', '/system/gc?page=1&page_size=1');
  await expect.poll(async () => (await rest(berth, 'GET', `/system/gc/${run.id}`)).job_status, { timeout: 30_000 })
    .toBe('Success');
  return run.id;
}

const queueRow = (page, type) => page.getByRole('table', { name: 'Job Queues' }).locator('tbody tr')
  .filter({ has: page.locator('td[data-key="job_type"]', { hasText: new RegExp(`^${type}$`) }) });

test('queues pause and resume, schedules are listed, workers show, and a job log opens', async ({ page, berth }) => {
  test.setTimeout(90_000);
  const job = await collect(berth);
  await rest(berth, 'PUT', '/system/gc/schedule', {
    schedule: { type: 'Custom', cron: '0 30 2 * * *' }, parameters: { delete_untagged: false, workers: 1 },
  });

  await signIn(page);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Job Service Dashboard' }).click();
  await expect(page).toHaveURL(/\/harbor\/job-service-dashboard\/pending-jobs$/);
  await expect(page).toHaveTitle('Job Service Dashboard - Berth');

  // The queues: after a collection there is a GC queue, not paused.
  const gc = queueRow(page, 'GARBAGE_COLLECTION');
  await expect(gc).toHaveCount(1);
  await expect(gc.locator('td[data-key="paused"]')).toHaveText('No');
  await expect(gc.locator('td[data-key="count"]')).toHaveText('0');
  await gc.getByRole('button', { name: 'Pause' }).click();
  await expect(page.getByText('GARBAGE_COLLECTION: paused')).toBeVisible();
  await expect(gc.locator('td[data-key="paused"]')).toHaveText('Yes');
  expect((await rest(berth, 'GET', '/jobservice/queues')).find((q) => q.job_type === 'GARBAGE_COLLECTION').paused)
    .toBe(true);
  await gc.getByRole('button', { name: 'Resume' }).click();
  await expect(page.getByText('GARBAGE_COLLECTION: resumed')).toBeVisible();
  await expect(gc.locator('td[data-key="paused"]')).toHaveText('No');

  // The schedules: the GC schedule set above; pausing every queue and back.
  await page.getByRole('link', { name: 'Schedules' }).click();
  const schedules = page.getByRole('table', { name: 'Schedules' }).locator('tbody tr');
  await expect(schedules.filter({ hasText: 'GARBAGE_COLLECTION' }).locator('td[data-key="cron"]'))
    .toHaveText('0 30 2 * * *');
  await expect(page.getByTestId('schedules-status')).toHaveText('Scheduled jobs: Running');
  await page.getByRole('button', { name: 'Pause All' }).click();
  await expect(page.getByTestId('schedules-status')).toContainText('Paused');
  expect((await rest(berth, 'GET', '/schedules/all/paused')).paused).toBe(true);
  await page.getByRole('button', { name: 'Resume All' }).click();
  await expect(page.getByTestId('schedules-status')).toHaveText('Scheduled jobs: Running');

  // The workers: this node's pool.
  await page.getByRole('link', { name: 'Workers' }).click();
  await expect(page.getByRole('table', { name: 'Worker Pools' }).locator('tbody tr')).toHaveCount(1);
  await expect(page.getByRole('table', { name: 'Workers' }).locator('tbody tr').first()).toBeVisible();

  // A job's log, by its id; a bad id is refused before asking.
  await page.getByLabel('Job ID').fill('x1');
  await page.getByRole('button', { name: 'View Log' }).click();
  await expect(page.getByRole('alert')).toHaveText('A job ID is a whole number, e.g. 12.');
  await page.getByLabel('Job ID').fill(String(job));
  await page.getByRole('button', { name: 'View Log' }).click();
  await expect(page.getByRole('dialog').getByRole('heading')).toHaveText(`Log of job ${job}`);
  await expect(page.getByTestId('job-log')).toContainText('garbage collection (dry run');
});
