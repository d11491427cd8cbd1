// The operator's path to a proxy cache: a real upstream (Debian's docker-registry, CNCF distribution) holding
// library/nginx:latest; in the console, Administration → Registries → a new endpoint whose connection test
// succeeds; a public proxy-cache project on it, its include pattern set in Configuration; an anonymous skopeo
// pull through the project; and the cached repository with its pull and the project's storage usage on the
// project's pages; then the endpoint is edited, and refused deletion while the proxy cache uses it.
const { execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { test, expect, signIn, screenshot, writeOciLayout, act, freePort } = require('./fixtures');

const ENDPOINT = 'local-upstream';
const PROXY = 'upstream-cache';

/// Runs skopeo with a throwaway HOME (no stored credentials, no blob-info cache).
function skopeo(args, home) {
  return execFileSync('skopeo', args, { env: { ...process.env, HOME: home }, encoding: 'utf8', stdio: 'pipe' });
}

/// Starts Debian's docker-registry on a free loopback port, storing under `dir`; resolves once /v2/ answers.
async function startUpstream(dir) {
  const port = await freePort();
  const config = path.join(dir, 'config.yml');
  fs.writeFileSync(config, [
    'version: 0.1',
    `storage: {filesystem: {rootdirectory: ${path.join(dir, 'data')}}, delete: {enabled: true}}`,
    `http: {addr: 127.0.0.1:${port}}`,
    '',
  ].join('\n'));
  let output = '';
  // A clean environment: the registry reads REGISTRY_* variables as configuration.
  const child = spawn('env', ['-i', `PATH=${process.env.PATH}`, 'docker-registry', 'serve', config], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
    if (child.exitCode === null) child.kill('SIGKILL');
  };
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited with ${child.exitCode}:\n${output}`);
    try {
      if ((await fetch(`${url}/v2/`)).ok) return { url, host: `127.0.0.1:${port}`, stop };
    } catch (_) {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  throw new Error(`docker-registry did not start within 20 s:\n${output}`);
}

test('an administrator adds an endpoint, creates a proxy cache and pulls through it', async ({ page, berth }) => {
  test.setTimeout(120_000);
  const host = new URL(berth.url).host;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-proxy-'));
  let upstream;
  try {
    // The upstream, with library/nginx:latest.
    fs.mkdirSync(path.join(work, 'upstream'));
    upstream = await startUpstream(path.join(work, 'upstream'));
    writeOciLayout(path.join(work, 'image'), 'latest');
    skopeo(['copy', '--dest-tls-verify=false', `oci:${path.join(work, 'image')}:latest`,
      `docker://${upstream.host}/library/nginx:latest`], work);

    // Administration → Registries → + New Endpoint, tested, saved.
    await signIn(page);
    await expect(page.getByRole('heading', { name: 'Projects' })).toBeVisible();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Registries' }).click();
    await expect(page).toHaveURL(/\/harbor\/registries$/);
    await expect(page.getByRole('heading', { name: 'Registries' })).toBeVisible();
    await page.getByRole('button', { name: '+ New Endpoint' }).click();
    const dialog = page.getByRole('dialog', { name: 'New Registry Endpoint' });
    await expect(dialog.getByLabel('Endpoint URL')).toHaveValue('https://hub.docker.com');
    await dialog.getByLabel('Provider').selectOption('docker-registry');
    await expect(dialog.getByLabel('Endpoint URL')).toHaveValue('');
    await dialog.getByLabel('Name').fill(ENDPOINT);
    await dialog.getByLabel('Description').fill('docker-registry on loopback');
    // A port nobody listens on: the test fails with the server's message.
    await dialog.getByLabel('Endpoint URL').fill('http://127.0.0.1:1');
    await dialog.getByRole('button', { name: 'Test Connection' }).click();
    const result = dialog.getByTestId('endpoint-test-result');
    await expect(result).toContainText('✖');
    await screenshot(page, 'proxy-endpoint-failed');
    await dialog.getByLabel('Endpoint URL').fill(upstream.url);
    await dialog.getByRole('button', { name: 'Test Connection' }).click();
    await expect(result).toContainText('Connection tested successfully');
    await screenshot(page, 'proxy-endpoint-dialog');
    await dialog.getByRole('button', { name: 'OK' }).click();
    await expect(dialog).toBeHidden();
    const row = page.locator(`tr[data-registry="${ENDPOINT}"]`);
    await expect(row).toContainText(upstream.url);
    await expect(row).toContainText('Docker Registry');
    await screenshot(page, 'proxy-registries');

    // Projects → + New Project, a public proxy cache of the endpoint.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Projects' }).click();
    await page.getByRole('button', { name: '+ New Project' }).click();
    const create = page.getByRole('dialog', { name: 'New Project' });
    await create.getByLabel('Project Name').fill(PROXY);
    await create.getByRole('checkbox', { name: 'Public' }).check();
    await create.getByRole('checkbox', { name: 'Proxy Cache' }).check();
    const endpoint = create.getByLabel('Endpoint', { exact: true });
    await expect(endpoint.locator('option', { hasText: ENDPOINT })).toHaveCount(1);
    await endpoint.selectOption({ label: `${ENDPOINT}-${upstream.url}` });
    await screenshot(page, 'proxy-new-project');
    await create.getByRole('button', { name: 'OK' }).click();
    await expect(create).toBeHidden();
    const projectRow = page.locator(`tr[data-project="${PROXY}"]`);
    await expect(projectRow).toContainText('Proxy Cache');
    await expect(projectRow).toContainText('Public');
    await projectRow.getByRole('link', { name: PROXY }).click();
    await expect(page).toHaveURL(/\/harbor\/projects\/\d+\/summary$/);
    const projectUrl = page.url().replace(/\/summary$/, '');
    await expect(page.getByTestId('summary-type')).toHaveText('Proxy Cache');
    await expect(page.getByTestId('proxy-endpoint')).toContainText(ENDPOINT);
    await expect(page.getByTestId('pull-command')).toHaveText(
      `docker pull ${host}/${PROXY}/<upstream repository>:<tag>`,
    );
    await expect(page.getByRole('heading', { name: 'Push Command' })).toHaveCount(0);
    await expect(page.getByTestId('summary-proxy-include')).toHaveText('All repositories');

    // Configuration: the include pattern, saved with the project's metadata (library/** keeps nginx pullable).
    const tabs = page.getByRole('navigation', { name: 'Project' });
    await tabs.getByRole('link', { name: 'Configuration' }).click();
    const include = page.getByLabel('Proxy Cache: include');
    await expect(include).toHaveValue('');
    await include.fill('library/**');
    await screenshot(page, 'proxy-config');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect(page.getByText('Configuration saved')).toBeVisible();
    await tabs.getByRole('link', { name: 'Summary' }).click();
    await expect(page.getByTestId('summary-proxy-include')).toHaveText('library/**');

    // An anonymous pull through the proxy cache.
    skopeo(['copy', '--src-tls-verify=false', `docker://${host}/${PROXY}/library/nginx:latest`,
      `oci:${path.join(work, 'pulled')}:latest`], work);

    // The cached repository with its pull, and the project's storage in use.
    await page.goto(`${projectUrl}/repositories`);
    const repoRow = page.locator(`tr[data-repository="${PROXY}/library/nginx"]`);
    await expect(async () => {
      await page.reload();
      await expect(repoRow.locator('td.number').nth(1)).toHaveText('1', { timeout: 1_000 });
    }).toPass({ timeout: 15_000 });
    await tabs.getByRole('link', { name: 'Summary' }).click();
    await expect(page.getByTestId('summary-repo-count')).toHaveText('1');
    const storage = page.locator('.project-summary .quota-text');
    await expect(storage).toBeVisible();
    expect(await storage.textContent()).not.toMatch(/^0 B/);
    await screenshot(page, 'proxy-summary');

    // Editing the endpoint: the secret is not shown, the test goes by id, and the change is saved.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Registries' }).click();
    await act(page, row, 'Edit');
    const edit = page.getByRole('dialog', { name: 'Edit Endpoint' });
    await expect(edit.getByLabel('Endpoint URL')).toHaveValue(upstream.url);
    await expect(edit.getByLabel('Access Secret')).toHaveValue('');
    await expect(edit.getByLabel('Provider')).toBeDisabled();
    await edit.getByRole('button', { name: 'Test Connection' }).click();
    await expect(edit.getByTestId('endpoint-test-result')).toContainText('Connection tested successfully');
    await edit.getByLabel('Description').fill('the loopback upstream');
    await edit.getByRole('button', { name: 'OK' }).click();
    await expect(edit).toBeHidden();
    await expect(row).toContainText('the loopback upstream');

    // An endpoint a proxy cache uses cannot be deleted: the server says why, and the endpoint stays.
    await act(page, row, 'Delete');
    const confirm = page.getByRole('dialog', { name: 'Delete Endpoint' });
    await confirm.getByRole('button', { name: 'Delete' }).click();
    await expect(confirm.getByRole('alert')).toContainText(PROXY);
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await expect(row).toBeVisible();
  } finally {
    if (upstream) await upstream.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
});
