// Vulnerability scanning from the console, against a real Berth and real clients: "prevent vulnerable images"
// refusing a skopeo pull (and the console saying why) until the image's CVEs are allowlisted; an SBOM generated
// from the artifact list and downloaded; Berth's own Harbor scanner adapter (/api/v1) registered as a second
// scanner and used by a project; scan-all from Interrogation Services → Vulnerability with its progress.
//
// The image is built in the test from package manifests (`node_modules/*/package.json` of ansi-html 0.0.1,
// tough-cookie 2.5.0 and request 2.88.2, the versions the repository's npm lock files pin) and pushed with
// skopeo; the advisories are the real GitHub advisories of those packages in server/tests/data/vulndata,
// imported with `berth vulndb import`.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const {
  test, expect, signIn, rest, writeOciLayout, berthCli, chooseAction, ROOT, ADMIN_USER, ADMIN_PASSWORD,
} = require('./fixtures');

const VULNDATA = path.join(ROOT, 'server', 'tests', 'data', 'vulndata');

/// The image's packages and the advisory of each: (name, version, GHSA id, its CVE alias, severity).
const PACKAGES = [
  ['ansi-html', '0.0.1', 'GHSA-whgm-jr23-g3j9', 'CVE-2021-23424', 'High'],
  ['tough-cookie', '2.5.0', 'GHSA-72xf-g2v4-qvf3', 'CVE-2023-26136', 'Medium'],
  ['request', '2.88.2', 'GHSA-p8p7-x288-28g6', 'CVE-2023-28155', 'Medium'],
];
const CVES = PACKAGES.map((p) => p[3]);

/// Imports the npm packages' advisories and waits until the running server reads the new generation (it looks
/// every two seconds); returns the built-in scanner's metadata, which names it.
async function importNpmAdvisories(berth) {
  berthCli(berth, ['vulndb', 'import',
    path.join(VULNDATA, 'osv', 'github-advisory-database'),
    path.join(VULNDATA, 'osv', 'google-osv-scanner', 'npm', 'GHSA-whgm-jr23-g3j9.json')]);
  const builtIn = (await rest(berth, 'GET', '/scanners')).find((s) => s.url === 'berth://built-in');
  let metadata;
  await expect.poll(async () => {
    metadata = await rest(berth, 'GET', `/scanners/${builtIn.uuid}/metadata`);
    return metadata.properties['berth/vulnerability-database-generation'];
  }, { timeout: 15_000 }).toMatch(/^\d+$/);
  return metadata;
}

/// A skopeo command against `berth` as the admin, in a scratch HOME; returns { ok, stderr }.
function skopeo(berth, args) {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-skopeo-'));
  try {
    execFileSync('skopeo', args, { env: { ...process.env, HOME: home }, stdio: 'pipe' });
    return { ok: true, stderr: '' };
  } catch (e) {
    return { ok: false, stderr: String(e.stderr || e.message) };
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
}

/// Builds the image of `PACKAGES` and pushes it as `repository:tag` with skopeo; returns its digest.
function pushNpmImage(berth, repository, tag) {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-npm-'));
  try {
    const files = PACKAGES.map(([name, version]) => [
      `app/node_modules/${name}/package.json`,
      Buffer.from(JSON.stringify({ name, version, license: 'MIT' })),
    ]);
    const layout = path.join(work, 'image');
    const digest = writeOciLayout(layout, tag, files);
    const pushed = skopeo(berth, ['copy', '--dest-tls-verify=false', '--dest-creds', `${ADMIN_USER}:${ADMIN_PASSWORD}`,
      `oci:${layout}:${tag}`, `docker://${new URL(berth.url).host}/${repository}:${tag}`]);
    expect(pushed.stderr).toBe('');
    return digest;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/// Pulls `repository:tag` from `berth` with skopeo (into a scratch directory); returns { ok, stderr }.
function pull(berth, repository, tag) {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-pull-'));
  try {
    return skopeo(berth, ['copy', '--src-tls-verify=false', '--src-creds', `${ADMIN_USER}:${ADMIN_PASSWORD}`,
      `docker://${new URL(berth.url).host}/${repository}:${tag}`, `dir:${path.join(work, 'out')}`]);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/// Creates a private project and returns its id.
async function newProject(berth, name) {
  await rest(berth, 'POST', '/projects', { project_name: name, metadata: { public: 'false' } });
  return (await rest(berth, 'GET', `/projects/${name}`)).project_id;
}

/// Scans `project/repository:tag` through the REST API and waits for its report; returns the report's summary.
async function scanned(berth, project, repository, tag) {
  const artifact = `/projects/${project}/repositories/${repository}/artifacts/${tag}`;
  await rest(berth, 'POST', `${artifact}/scan`, { scan_type: 'vulnerability' });
  const native = 'application/vnd.security.vulnerability.report; version=1.1';
  let summary;
  await expect.poll(async () => {
    summary = (await rest(berth, 'GET', `${artifact}?with_scan_overview=true`)).scan_overview?.[native];
    return summary?.scan_status;
  }, { timeout: 60_000 }).toBe('Success');
  return summary;
}

test('prevent vulnerable images: skopeo is refused and the console says why, until the CVEs are allowlisted', async ({ page, berth }) => {
  test.setTimeout(120_000);
  await importNpmAdvisories(berth);
  const id = await newProject(berth, 'guarded');
  const digest = pushNpmImage(berth, 'guarded/web', '1.0');
  const summary = await scanned(berth, 'guarded', 'web', '1.0');
  expect(summary.summary.summary).toEqual({ High: 1, Medium: 2 });
  // Nothing prevents it yet.
  expect(pull(berth, 'guarded/web', '1.0')).toEqual({ ok: true, stderr: '' });

  // Configuration: prevent images with Medium or higher.
  await signIn(page);
  await page.goto(`/harbor/projects/${id}/configs`);
  await page.getByLabel('Prevent vulnerable images from running.').check();
  await page.getByLabel('Prevent images with vulnerability severity of').selectOption({ label: 'Medium' });
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByText('Configuration saved')).toBeVisible();

  // skopeo is refused, with Harbor's message naming the policy and how many findings decided it.
  const refused = pull(berth, 'guarded/web', '1.0');
  expect(refused.ok).toBe(false);
  expect(refused.stderr).toContain('current image with 3 vulnerabilities cannot be pulled due to configured policy');
  // (skopeo quotes the message, escaping its double quotes.)
  expect(refused.stderr).toMatch(/'Prevent images with vulnerability severity of \\?"Medium\\?" or higher from running\.'/);
  expect(refused.stderr).toContain(`(${CVES.join(', ')})`);

  // The artifact's page says so, and why.
  await page.goto(`/harbor/projects/${id}/repositories/web/artifacts-tab/artifacts/${digest}`);
  const section = page.getByRole('region', { name: 'Vulnerabilities' });
  await expect(section.locator('tbody.finding')).toHaveCount(3);
  await expect(section.getByTestId('pull-refused')).toHaveText(
    /^Pulls of this artifact are refused: it has 3 vulnerabilities of severity Medium or higher that the CVE allowlist does not exempt, and the project prevents vulnerable images from running/,
  );

  // A High threshold leaves one finding (ansi-html's) that decides.
  await page.goto(`/harbor/projects/${id}/configs`);
  await page.getByLabel('Prevent images with vulnerability severity of').selectOption({ label: 'High' });
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByText('Configuration saved')).toBeVisible();
  const high = pull(berth, 'guarded/web', '1.0');
  expect(high.ok).toBe(false);
  expect(high.stderr).toContain('current image with 1 vulnerability cannot be pulled');
  await page.goto(`/harbor/projects/${id}/repositories/web/artifacts-tab/artifacts/${digest}`);
  await expect(section.getByTestId('pull-refused')).toContainText('it has 1 vulnerability of severity High or higher');

  // Every CVE of the image in the project's allowlist: the pull goes through.
  await page.goto(`/harbor/projects/${id}/configs`);
  await page.getByLabel('Prevent images with vulnerability severity of').selectOption({ label: 'Medium' });
  await page.getByRole('radio', { name: 'Project allowlist' }).check();
  await page.getByRole('button', { name: 'Add', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'Add CVE IDs' });
  await dialog.getByLabel('CVE IDs').fill(CVES.join('\n'));
  await dialog.getByRole('button', { name: 'Add' }).click();
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByText('Configuration saved')).toBeVisible();
  expect((await rest(berth, 'GET', `/projects/${id}`)).cve_allowlist.items.map((i) => i.cve_id).sort())
    .toEqual([...CVES].sort());
  expect(pull(berth, 'guarded/web', '1.0')).toEqual({ ok: true, stderr: '' });

  // The page now says pulls are allowed, every finding marked allowlisted.
  await page.goto(`/harbor/projects/${id}/repositories/web/artifacts-tab/artifacts/${digest}`);
  await expect(section.getByTestId('pull-allowed')).toContainText('Pulls are allowed');
  await expect(section.getByTestId('pull-refused')).toHaveCount(0);
  await expect(section.locator('tbody.finding .allowlisted-mark')).toHaveCount(3);
});

test('an SBOM generated from the artifact list, stopped while queued, then downloaded as SPDX JSON', async ({ page, berth }) => {
  test.setTimeout(90_000);
  const id = await newProject(berth, 'sboms');
  const digest = pushNpmImage(berth, 'sboms/web', '1.0');
  await signIn(page);
  const listed = page.waitForRequest((r) => r.url().includes('/repositories/web/artifacts?'));
  await page.goto(`/harbor/projects/${id}/repositories/web/artifacts-tab`);
  expect((await listed).url()).toContain('with_sbom_overview=true');
  await expect(page.getByRole('columnheader', { name: 'SBOM' })).toBeVisible();
  const row = page.locator(`tr[data-digest="${digest}"]`);
  const cell = row.locator('.artifact-sbom');
  await expect(cell).toHaveText('No SBOM');
  const generate = page.getByRole('button', { name: 'Generate SBOM' });
  await expect(generate).toBeDisabled();

  // With the SBOM queue paused the generation waits, Queued; the Action menu stops it.
  await rest(berth, 'PUT', '/jobservice/queues/SBOM', { action: 'pause' });
  await row.locator('td.select input[type="checkbox"]').check();
  const [asked] = await Promise.all([
    page.waitForResponse((r) => /\/artifacts\/[^/]+\/scan$/.test(r.url()) && r.request().method() === 'POST'),
    generate.click(),
  ]);
  expect(asked.status()).toBe(202);
  expect(asked.request().postDataJSON()).toEqual({ scan_type: 'sbom' });
  await expect(page.locator('.toast').getByText('SBOM generation requested')).toBeVisible();
  await expect(cell).toHaveText('Queued');
  await (await chooseAction(page, [], 'Stop SBOM Generation')).click();
  await expect(page.locator('.toast').getByText('SBOM generation stopped')).toBeVisible();
  await expect(cell).toHaveText('Stopped');

  // Resumed, generated again: the column turns into the SBOM's links by itself.
  await rest(berth, 'PUT', '/jobservice/queues/SBOM', { action: 'resume' });
  await row.locator('td.select input[type="checkbox"]').check();
  await generate.click();
  const download = cell.getByRole('link', { name: 'Download SBOM' });
  await expect(download).toBeVisible({ timeout: 60_000 });
  await expect(cell.getByRole('link', { name: 'SBOM details' })).toBeVisible();
  // The SBOM is an accessory of the image: it gets no row of its own (Harbor's list).
  await expect(page.locator('tr.artifact-row')).toHaveCount(1);
  const overview = (await rest(berth, 'GET',
    `/projects/sboms/repositories/web/artifacts/${digest}?with_sbom_overview=true`)).sbom_overview;
  expect(overview.scan_status).toBe('Success');

  // The download: Berth's SPDX 2.3 JSON document of the image, naming its packages and versions.
  const [file] = await Promise.all([page.waitForEvent('download'), download.click()]);
  expect(file.suggestedFilename()).toMatch(/^sbom_web_[0-9a-f]{12}\.spdx\.json$/);
  const document = JSON.parse(fs.readFileSync(await file.path(), 'utf8'));
  expect(document.spdxVersion).toBe('SPDX-2.3');
  const packages = document.packages.map((p) => [p.name, p.versionInfo]);
  for (const [name, version] of PACKAGES) expect(packages).toContainEqual([name, version]);

  // "SBOM details" opens the artifact's page, whose SBOM section offers the same download and a new generation.
  await cell.getByRole('link', { name: 'SBOM details' }).click();
  await expect(page).toHaveURL(new RegExp(`/artifacts/${digest.replace(':', '(:|%3A)')}$`));
  const sbom = page.getByRole('region', { name: 'SBOM' });
  await expect(sbom.getByText(`The SBOM accessory: ${overview.sbom_digest}`)).toBeVisible();
  await expect(sbom.getByRole('link', { name: 'Download SBOM' }))
    .toHaveAttribute('href', `/api/v2.0/projects/sboms/repositories/web/artifacts/${encodeURIComponent(digest)}/additions/sbom`);
  await expect(sbom.getByRole('button', { name: 'Generate SBOM' })).toBeEnabled();
  await expect(sbom.getByRole('button', { name: 'Stop' })).toBeHidden();
});

test.describe('with Berth serving its scanner adapter', () => {
  const KEY = 'adapter-key-for-tests';
  test.use({ berthEnv: { BERTH_SCAN__ADAPTER_API_KEY: KEY } });

  test('Berth\'s own /api/v1 registered as a second scanner, chosen by a project, scans from the console', async ({ page, berth }) => {
    test.setTimeout(120_000);
    await importNpmAdvisories(berth);
    const id = await newProject(berth, 'external');
    const digest = pushNpmImage(berth, 'external/web', '1.0');
    await signIn(page);

    // Interrogation Services → Scanners: the adapter's endpoint is Berth's own address, with its API key.
    await page.goto('/harbor/interrogation-services/scanners');
    await page.getByRole('button', { name: '+ New Scanner' }).click();
    const dialog = page.getByRole('dialog', { name: 'New Scanner' });
    await dialog.getByLabel('Name').fill('berth-adapter');
    await dialog.getByLabel('Endpoint').fill(berth.url);
    await dialog.getByLabel('Authorization').selectOption({ label: 'APIKey' });
    await dialog.getByLabel('API Key').fill('wrong-key');
    await dialog.getByRole('button', { name: 'Test Connection' }).click();
    const result = dialog.getByTestId('scanner-test-result');
    await expect(result.locator('.endpoint-test-bad')).toBeVisible();
    await dialog.getByLabel('API Key').fill(KEY);
    // The adapter pulls from this Berth's own listening address.
    await dialog.getByLabel('Use internal registry address').check();
    await dialog.getByRole('button', { name: 'Test Connection' }).click();
    await expect(result).toHaveText('✔ Connection tested successfully.');
    await dialog.getByRole('button', { name: 'Add' }).click();
    await expect(dialog).toBeHidden();
    const row = page.locator('tr[data-scanner="berth-adapter"]');
    await expect(row.locator('.scanner-health')).toHaveText('Healthy');
    await expect(row).toContainText('APIKey');
    await expect(page.locator('tr[data-scanner]')).toHaveCount(2);

    // The project chooses it.
    await page.goto(`/harbor/projects/${id}/configs`);
    const scanner = page.getByRole('region', { name: 'Scanner' });
    await scanner.getByLabel('Project scanner').selectOption({ label: 'berth-adapter' });
    await scanner.getByRole('button', { name: 'Select Scanner' }).click();
    await expect(page.getByText('Project scanner saved')).toBeVisible();
    expect((await rest(berth, 'GET', '/projects/external/scanner')).name).toBe('berth-adapter');

    // Scan from the list: the adapter's findings arrive in the Vulnerabilities column.
    await page.goto(`/harbor/projects/${id}/repositories/web/artifacts-tab`);
    const artifact = page.locator(`tr[data-digest="${digest}"]`);
    await expect(artifact.locator('.artifact-vulnerabilities')).toHaveText('Not Scanned');
    await artifact.locator('td.select input[type="checkbox"]').check();
    await page.getByRole('button', { name: 'Scan', exact: true }).click();
    await expect(page.locator('.toast').getByText('Scan requested')).toBeVisible();
    await expect(artifact.locator('.vuln-bar')).toHaveText('3 Total', { timeout: 90_000 });
    await expect(artifact.locator('.vuln-bar')).toHaveClass(/sev-high/);

    // The report is the adapter's: its log says the scan went to berth-adapter.
    const native = 'application/vnd.security.vulnerability.report; version=1.1';
    const { report_id: report } = (await rest(berth, 'GET',
      `/projects/external/repositories/web/artifacts/${digest}?with_scan_overview=true`)).scan_overview[native];
    const log = await fetch(`${berth.url}/api/v2.0/projects/external/repositories/web/artifacts/${digest}/scan/${report}/log`,
      { headers: { Authorization: `Basic ${Buffer.from(`${ADMIN_USER}:${ADMIN_PASSWORD}`).toString('base64')}` } });
    const text = await log.text();
    expect(text).toContain('with an external adapter');
    expect(text).toContain('the adapter berth-adapter accepted the scan');
    expect(text).toContain('the adapter reported 3 findings');

    // Its findings on the artifact's page.
    await artifact.getByRole('link', { name: /sha256:/ }).click();
    const section = page.getByRole('region', { name: 'Vulnerabilities' });
    await expect(section.locator('tbody.finding')).toHaveCount(3);
    for (const [name, version, , , severity] of PACKAGES) {
      const finding = section.locator('tbody.finding').filter({ hasText: name });
      await expect(finding.locator('.severity-label')).toHaveText(severity);
      await expect(finding.locator('tr').first().locator('td').nth(3)).toHaveText(version);
    }
  });
});

test('scan-all from Interrogation Services → Vulnerability: the database, the schedule, and the progress to its end', async ({ page, berth }) => {
  test.setTimeout(120_000);
  const metadata = await importNpmAdvisories(berth);
  await newProject(berth, 'all');
  pushNpmImage(berth, 'all/web', '1.0');
  pushNpmImage(berth, 'all/api', '2.0');
  await signIn(page);

  await page.getByRole('link', { name: 'Interrogation Services' }).click();
  await expect(page).toHaveURL(/\/harbor\/interrogation-services\/scanners$/);
  await page.getByRole('navigation', { name: 'Interrogation Services' }).getByRole('link', { name: 'Vulnerability' }).click();
  await expect(page).toHaveURL(/\/harbor\/interrogation-services\/vulnerability$/);

  // The built-in scanner's database: its generation and how old it is.
  const generation = metadata.properties['berth/vulnerability-database-generation'];
  expect(generation).toMatch(/^\d+$/);
  await expect(page.getByTestId('db-scanner')).toHaveText(/^Berth \S+$/);
  await expect(page.getByTestId('db-generation')).toHaveText(generation);
  await expect(page.getByTestId('db-updated')).toHaveText(/\((just now|\d+ minutes? ago)\)$/);
  await expect(page.getByTestId('scan-all-progress')).toHaveText('No scan of all artifacts has run yet.');

  // The schedule: a custom cron needs six fields; a daily one is saved, with its next run.
  await page.getByLabel('Schedule').selectOption('Custom');
  await page.getByLabel('Cron').fill('0 3 * * *');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('alert')).toContainText('six fields');
  await page.getByLabel('Schedule').selectOption('Daily');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.locator('.toast').getByText('Schedule saved')).toBeVisible();
  expect((await rest(berth, 'GET', '/system/scanAll/schedule')).schedule.type).toBe('Daily');
  await expect(page.getByText(/^Next run: /)).toBeVisible();

  // Queued (its queue paused): the button stops it.
  await rest(berth, 'PUT', '/jobservice/queues/SCAN_ALL', { action: 'pause' });
  const button = page.getByTestId('scan-all');
  await expect(button).toHaveText('Scan Now');
  await button.click();
  await expect(page.locator('.toast').getByText('Scan of all artifacts started')).toBeVisible();
  await expect(button).toHaveText('Stop Scan');
  await expect(page.getByTestId('scan-all-progress').getByRole('status')).toHaveText(/^In progress: /);
  await button.click();
  await expect(page.locator('.toast').getByText('Stopping the scan of all artifacts')).toBeVisible();
  await expect(button).toHaveText('Scan Now');

  // Run to its end: every artifact scanned, the bar all Success.
  await rest(berth, 'PUT', '/jobservice/queues/SCAN_ALL', { action: 'resume' });
  await button.click();
  const progress = page.getByTestId('scan-all-progress');
  await expect(progress.getByRole('status')).toHaveText('Finished: 2 of 2 artifacts done', { timeout: 60_000 });
  await expect(button).toHaveText('Scan Now');
  await expect(progress.locator('.scan-all-trigger')).toHaveText('Manual');
  await expect(progress.locator('.scan-all-total')).toHaveText('2');
  await expect(progress.locator('li[data-outcome="Success"]')).toHaveText('2 Success');
  await expect(progress.getByRole('progressbar')).toHaveAttribute('aria-valuenow', '2');
  const stats = await rest(berth, 'GET', '/scans/all/metrics');
  expect(stats).toMatchObject({ total: 2, completed: 2, ongoing: false });
  // Both artifacts have their report.
  for (const repository of ['web', 'api']) {
    const artifacts = await rest(berth, 'GET', `/projects/all/repositories/${repository}/artifacts?with_scan_overview=true`);
    expect(artifacts[0].scan_overview['application/vnd.security.vulnerability.report; version=1.1'].scan_status)
      .toBe('Success');
  }
});

test('Security Hub: the summary of the latest reports, the most dangerous artifacts and CVEs, and a search', async ({ page, berth }) => {
  test.setTimeout(120_000);
  await importNpmAdvisories(berth);
  const id = await newProject(berth, 'hub');
  const digest = pushNpmImage(berth, 'hub/web', '1.0');
  await scanned(berth, 'hub', 'web', '1.0');
  // Scanned twice: the hub counts the latest report only.
  await scanned(berth, 'hub', 'web', '1.0');
  const api = await rest(berth, 'GET', '/security/summary?with_dangerous_cve=true&with_dangerous_artifact=true');
  expect(api.total_vuls).toBe(3);
  expect([api.high_cnt, api.medium_cnt]).toEqual([1, 2]);

  await signIn(page);
  await page.goto('/harbor/interrogation-services/security-hub');
  await expect(page.getByRole('link', { name: 'Security Hub' })).toBeVisible();
  await expect(page.getByRole('heading', { name: `${api.total_artifact} artifacts, 1 scanned` })).toBeVisible();
  const total = page.getByRole('region', { name: 'Total Vulnerabilities' });
  await expect(total).toContainText(`3 total with ${api.fixable_cnt} fixable`);
  const artifacts = page.getByRole('region', { name: 'Top 5 Most Dangerous Artifacts' });
  await expect(artifacts.locator('tbody tr')).toHaveCount(api.dangerous_artifacts.length);
  await expect(artifacts.locator('tbody tr').first()).toContainText('hub/web');
  await expect(artifacts.locator('tbody tr').first()).toContainText('0 / 1 / 2');
  const cves = page.getByRole('region', { name: 'Top 5 Most Dangerous CVEs' });
  await expect(cves.locator('tbody tr')).toHaveCount(api.dangerous_cves.length);

  // Every finding is listed; a search by CVE id narrows the list to its one row.
  const rows = page.locator('.security-hub-page > .list-scroll table.list tbody tr');
  await expect(rows).toHaveCount(3);
  await page.getByLabel('Search by').selectOption({ label: 'CVE ID' });
  await page.getByLabel('Search value').fill('CVE-2021-23424');
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText('ansi-html');
  await expect(rows.first()).toContainText('High');
  // A severity search, and a range Harbor cannot read is explained before anything is asked.
  await page.getByLabel('Search by').selectOption({ label: 'Severity' });
  await page.getByLabel('Search value').fill('medium');
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(rows).toHaveCount(2);
  await page.getByLabel('Search by').selectOption({ label: 'CVSS3' });
  await page.getByLabel('Search value').fill('10-7');
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(page.getByText('Type a CVSS3 range from 0 to 10, such as 7-10.')).toBeVisible();
  // The dangerous artifact's repository searches the list for it; its digest opens the artifact's page.
  await artifacts.getByRole('button', { name: 'hub/web' }).click();
  await expect(rows).toHaveCount(3);
  await artifacts.locator('tbody tr').first().getByRole('link').click();
  await expect(page).toHaveURL(new RegExp(`/harbor/projects/${id}/repositories/web/artifacts-tab/artifacts/${digest.replace(':', '%3A')}$`));
});
