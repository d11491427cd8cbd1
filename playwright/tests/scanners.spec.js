// Administration → Interrogation Services → Scanners: the built-in Berth registration (default, protected),
// a new scanner registered against a small adapter this test runs (valid Harbor adapter metadata, a Bearer
// token required), its connection tested (and a failing one), set as default, disabled and enabled, chosen
// as a project's scanner on its Configuration tab, deleted.
const http = require('node:http');

const { test, expect, signIn, rest, act, chooseAction, freePort } = require('./fixtures');

const TOKEN = 'adapter-token-1';

/// Starts an adapter that answers `GET /api/v1/metadata` with metadata Harbor accepts when the request
/// carries `Bearer TOKEN`, 401 otherwise; returns { url, seen (the Authorization headers), close }.
async function startAdapter() {
  const seen = [];
  const server = http.createServer((req, res) => {
    seen.push(req.headers.authorization || '');
    if (req.url !== '/api/v1/metadata') {
      res.writeHead(404).end();
      return;
    }
    if (req.headers.authorization !== `Bearer ${TOKEN}`) {
      res.writeHead(401).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/vnd.scanner.adapter.metadata+json; version=1.0' });
    res.end(JSON.stringify({
      scanner: { name: 'Tiny', vendor: 'Berth tests', version: '1.0' },
      capabilities: [{
        consumes_mime_types: ['application/vnd.oci.image.manifest.v1+json',
          'application/vnd.docker.distribution.manifest.v2+json'],
        produces_mime_types: ['application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.0'],
      }],
      properties: { 'harbor.scanner-adapter/scanner-type': 'os-package-vulnerability' },
    }));
  });
  const port = await freePort();
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${port}`, seen, close: () => new Promise((r) => server.close(r)) };
}

test('scanners: the built-in one is protected; a new adapter is tested, added, made default, disabled, deleted', async ({ page, berth }) => {
  const adapter = await startAdapter();
  try {
    await signIn(page);
    await page.getByRole('link', { name: 'Interrogation Services' }).click();
    await expect(page).toHaveURL(/\/harbor\/interrogation-services\/scanners$/);
    const berthRow = page.locator('tr[data-scanner="Berth"]');
    await expect(berthRow.locator('.scanner-name')).toContainText('Default');
    await expect(berthRow.locator('.scanner-name')).toContainText('Built-in');
    await expect(berthRow.locator('.scanner-health')).toHaveText('Healthy');
    await expect(berthRow.locator('.scanner-enabled')).toHaveText('Yes');
    // The built-in one can be neither deleted nor disabled.
    await expect(await chooseAction(page, berthRow, 'Delete')).toBeDisabled();
    await expect(page.getByRole('menuitem', { name: 'Disable' })).toBeDisabled();
    await page.keyboard.press('Escape');
    await berthRow.locator('td.select input[type="checkbox"]').uncheck();

    // A new scanner: a wrong token fails the test, the right one passes; then it is added.
    await page.getByRole('button', { name: '+ New Scanner' }).click();
    const dialog = page.getByRole('dialog', { name: 'New Scanner' });
    await dialog.getByLabel('Name').fill('tiny');
    await dialog.getByLabel('Description').fill('a test adapter');
    await dialog.getByLabel('Endpoint').fill(adapter.url);
    await dialog.getByLabel('Authorization').selectOption({ label: 'Bearer' });
    await dialog.getByLabel('Token').fill('wrong');
    await dialog.getByRole('button', { name: 'Test Connection' }).click();
    const result = dialog.getByTestId('scanner-test-result');
    await expect(result.locator('.endpoint-test-bad')).toBeVisible();
    await dialog.getByLabel('Token').fill(TOKEN);
    await dialog.getByRole('button', { name: 'Test Connection' }).click();
    await expect(result).toHaveText('✔ Connection tested successfully.');
    expect(adapter.seen).toContain(`Bearer ${TOKEN}`);
    await dialog.getByRole('button', { name: 'Add' }).click();
    await expect(dialog).toBeHidden();
    const row = page.locator('tr[data-scanner="tiny"]');
    await expect(row.locator('.scanner-url')).toHaveText(adapter.url);
    await expect(row.locator('.scanner-health')).toHaveText('Healthy');
    await expect(row).toContainText('Bearer');
    await expect(row).toContainText('a test adapter');
    await expect(row.locator('.scanner-name')).not.toContainText('Default');

    // Set as default: the mark moves.
    await act(page, row, 'Set as Default');
    await expect(page.getByText('tiny is the default scanner')).toBeVisible();
    await expect(row.locator('.scanner-name')).toContainText('Default');
    await expect(berthRow.locator('.scanner-name')).not.toContainText('Default');
    await row.locator('td.select input[type="checkbox"]').uncheck();
    await act(page, berthRow, 'Set as Default');
    await expect(berthRow.locator('.scanner-name')).toContainText('Default');
    await berthRow.locator('td.select input[type="checkbox"]').uncheck();

    // Disable, then enable again.
    await act(page, row, 'Disable');
    await expect(row.locator('.scanner-enabled')).toHaveText('No');
    await act(page, [], 'Enable');
    await expect(row.locator('.scanner-enabled')).toHaveText('Yes');

    // A project chooses it on its Configuration tab (Harbor's project Scanner tab).
    await rest(berth, 'POST', '/projects', { project_name: 'scanned', metadata: { public: 'false' } });
    const { project_id: id } = await rest(berth, 'GET', '/projects/scanned');
    await page.goto(`/harbor/projects/${id}/configs`);
    const section = page.getByRole('region', { name: 'Scanner' });
    await expect(section.locator('.project-scanner-name')).toHaveText('Berth');
    await section.getByLabel('Project scanner').selectOption({ label: 'tiny' });
    await section.getByRole('button', { name: 'Select Scanner' }).click();
    await expect(page.getByText('Project scanner saved')).toBeVisible();
    await expect(section.locator('.project-scanner-name')).toHaveText('tiny');
    expect((await rest(berth, 'GET', '/projects/scanned/scanner')).name).toBe('tiny');

    // Delete.
    await page.goto('/harbor/interrogation-services/scanners');
    await row.locator('td.select input[type="checkbox"]').check();
    await act(page, [], 'Delete');
    await page.getByRole('dialog', { name: 'Delete Scanner' }).getByRole('button', { name: 'Delete' }).click();
    await expect(row).toHaveCount(0);
    await expect(berthRow).toBeVisible();
  } finally {
    await adapter.close();
  }
});
