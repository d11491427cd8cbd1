// The project's Webhooks tab: a webhook made in Harbor's dialog receives a push at a real HTTP receiver started
// by the test, and the delivery shows in the webhook's executions with the receiver's status code and its log.
const http = require('http');
const {
  test, expect, signIn, screenshot, rest, pushTaggedImage, act,
} = require('./fixtures');

/// A receiver on a free loopback port that records each POST's path and JSON body and answers 200.
async function startReceiver() {
  const got = [];
  const server = http.createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => { body += chunk; });
    request.on('end', () => {
      let json = null;
      try { json = JSON.parse(body); } catch { /* recorded as null */ }
      got.push({ path: request.url, authorization: request.headers.authorization, body: json });
      response.writeHead(200);
      response.end();
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { got, url: `http://127.0.0.1:${server.address().port}`, close: () => server.close() };
}

// The receiver listens on the loopback, which webhooks may target only when the operator allows it.
test.use({ berthEnv: { BERTH_WEBHOOKS__ALLOW_LOCAL_TARGETS: 'true' } });

test('a webhook is created in the console and its delivery shows in its executions', async ({ page, berth }) => {
  const receiver = await startReceiver();
  try {
    await rest(berth, 'POST', '/projects', { project_name: 'hooks', metadata: { public: 'false' } });
    const project = await rest(berth, 'GET', '/projects/hooks');

    await signIn(page);
    await expect(page).toHaveURL(/\/harbor\/projects$/);
    await page.goto(`/harbor/projects/${project.project_id}/webhook`);
    await expect(page).toHaveTitle('Webhooks - hooks - Berth');
    await expect(page.locator('section.webhooks-tab')).toContainText('No webhooks yet');

    await page.getByRole('button', { name: '+ New Webhook' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add Webhook' });
    await dialog.getByLabel('Name', { exact: true }).fill('ci');
    await dialog.getByRole('button', { name: 'OK' }).click();
    await expect(dialog.getByRole('alert')).toContainText('http:// or https://');
    await dialog.getByLabel('Endpoint URL').fill(`${receiver.url}/hook`);
    await dialog.getByRole('button', { name: 'OK' }).click();
    await expect(dialog.getByRole('alert')).toContainText('at least one event type');
    await dialog.getByLabel('PUSH_ARTIFACT').check();
    await dialog.getByLabel('Auth Header').fill('Bearer console-token');
    await dialog.getByRole('button', { name: 'OK' }).click();
    await expect(dialog).toBeHidden();
    const row = page.locator('tr[data-webhook="ci"]');
    await expect(row).toContainText('Enabled');
    await expect(row).toContainText(`${receiver.url}/hook`);
    await expect(row).toContainText('PUSH_ARTIFACT');

    const [stored] = await rest(berth, 'GET', '/projects/hooks/webhook/policies');
    expect(stored.event_types).toEqual(['PUSH_ARTIFACT']);
    expect(stored.targets[0].payload_format).toBe('Default');
    expect(JSON.stringify(stored)).not.toContain('console-token');

    // A push reaches the receiver with the header, and the execution shows the receiver's answer.
    await pushTaggedImage(berth, 'hooks/app', 'v1', 'webhook console');
    await expect.poll(() => receiver.got.length, { timeout: 15_000 }).toBe(1);
    expect(receiver.got[0].authorization).toBe('Bearer console-token');
    expect(receiver.got[0].body.type).toBe('PUSH_ARTIFACT');
    expect(receiver.got[0].body.event_data.repository.repo_full_name).toBe('hooks/app');

    await row.getByRole('button', { name: 'ci' }).click();
    const executions = page.locator('section.webhook-executions');
    await expect(executions.getByRole('heading', { name: 'Executions of ci' })).toBeVisible();
    const execution = executions.locator('tr[data-execution]');
    await expect(async () => {
      await executions.getByRole('button', { name: 'Refresh' }).click();
      await expect(execution.locator('.execution-status')).toHaveText('Success', { timeout: 1_000 });
    }).toPass({ timeout: 15_000 });
    await expect(execution).toContainText('PUSH_ARTIFACT');
    await expect(execution.locator('.webhook-response')).toHaveText('200 (1 attempt)');
    const log = await page.request.get(await execution.getByRole('link', { name: 'Log' }).getAttribute('href'));
    expect(log.status()).toBe(200);
    expect(await log.text()).toContain('answered 200 OK');
    await screenshot(page, 'webhooks');

    // Disabled from the Action menu, it sends nothing more.
    await act(page, row, 'Enable / Disable');
    await expect(row).toContainText('Disabled');
    await pushTaggedImage(berth, 'hooks/app', 'v2', 'webhook console 2');
    await page.waitForTimeout(1_500);
    expect(receiver.got.length).toBe(1);
  } finally {
    receiver.close();
  }
});
