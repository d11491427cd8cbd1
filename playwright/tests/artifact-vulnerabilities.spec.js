// An artifact's vulnerabilities: the artifact list's Vulnerabilities column and the artifact page's view.
// A real scan: the real Debian advisory data imported with `berth vulndb import`, an image built from Debian
// 12.0's real package database pushed with skopeo, scanned from the list, its findings read, filtered and
// sorted on its page, and one of them allowlisted in the project's Configuration.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const {
  test, expect, signIn, rest, pushTaggedImage, writeOciLayout, berthCli, pushBlob, pushManifest, ROOT, OCI_MANIFEST,
  ADMIN_USER, ADMIN_PASSWORD,
} = require('./fixtures');

const VULNDATA = path.join(ROOT, 'server', 'tests', 'data', 'vulndata');

/// Imports the real Debian security tracker data for bookworm into the server's data directory (the running
/// server opens the new generation by itself).
function importDebianAdvisories(berth) {
  berthCli(berth, ['vulndb', 'import', path.join(VULNDATA, 'debian', 'tracker-bookworm.json')]);
}

/// Builds an image of Debian 12.0's identity and package database (`etc/os-release`, `var/lib/dpkg/status`,
/// the real files of the test data) and pushes it as `repository:tag` with skopeo.
function pushDebian12(berth, repository, tag) {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-scan-'));
  try {
    const root = path.join(VULNDATA, 'packages', 'debian12-derived-12.0');
    const files = ['etc/os-release', 'var/lib/dpkg/status'].map((f) => [f, fs.readFileSync(path.join(root, f))]);
    const layout = path.join(work, 'image');
    const digest = writeOciLayout(layout, tag, files);
    execFileSync('skopeo', ['copy', '--dest-tls-verify=false', '--dest-creds', `${ADMIN_USER}:${ADMIN_PASSWORD}`,
      `oci:${layout}:${tag}`, `docker://${new URL(berth.url).host}/${repository}:${tag}`],
    { env: { ...process.env, HOME: work }, stdio: 'pipe' });
    return digest;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

test('a real scan: Scan from the list, the findings on the artifact page, filtered and sorted, and an allowlisted CVE', async ({ page, berth }) => {
  importDebianAdvisories(berth);
  await rest(berth, 'POST', '/projects', { project_name: 'debian', metadata: { public: 'false' } });
  const { project_id: id } = await rest(berth, 'GET', '/projects/debian');
  const digest = pushDebian12(berth, 'debian/base', '12.0');
  await signIn(page);

  // The list: not scanned; Scan the chosen row; the column shows the scan under way, then its result.
  await page.goto(`/harbor/projects/${id}/repositories/base/artifacts-tab`);
  const row = page.locator(`tr[data-digest="${digest}"]`);
  const cell = row.locator('.artifact-vulnerabilities');
  await expect(cell).toHaveText('Not Scanned');
  const scan = page.getByRole('button', { name: 'Scan', exact: true });
  await expect(scan).toBeDisabled();
  await row.locator('td.select input[type="checkbox"]').check();
  // The scan queue paused (Job Service Dashboard's pause), so the scan waits where the list can show it.
  await rest(berth, 'PUT', '/jobservice/queues/IMAGE_SCAN', { action: 'pause' });
  const [asked] = await Promise.all([
    page.waitForResponse((r) => /\/artifacts\/[^/]+\/scan$/.test(r.url()) && r.request().method() === 'POST'),
    scan.click(),
  ]);
  expect(asked.status()).toBe(202);
  await expect(page.locator('.toast').getByText('Scan requested')).toBeVisible();
  await expect(cell).toHaveText('Queued');
  // The queue resumed, the list reads the artifact again by itself until the result is there.
  const polled = page.waitForRequest((r) => r.url().includes('/repositories/base/artifacts?'));
  await polled;
  await rest(berth, 'PUT', '/jobservice/queues/IMAGE_SCAN', { action: 'resume' });
  await expect(cell.locator('.vuln-bar')).toHaveText(/^\d+ Total$/, { timeout: 60_000 });
  const overview = (await rest(berth, 'GET',
    `/projects/debian/repositories/base/artifacts/${digest}?with_scan_overview=true`))
    .scan_overview['application/vnd.security.vulnerability.report; version=1.1'];
  const total = overview.summary.total;
  await expect(cell.locator('.vuln-bar')).toHaveText(`${total} Total`);
  // Debian's tracker gives bookworm's findings the urgencies "not yet assigned" (Unknown) and "unimportant"
  // (Negligible): the bar takes the worst, Negligible (Harbor's order: Unknown is the least).
  expect(overview.summary.summary).toEqual({ Negligible: expect.any(Number), Unknown: expect.any(Number) });
  await expect(cell.locator('.vuln-bar')).toHaveClass(/sev-negligible/);
  await expect(cell.locator('.vuln-fixable')).toHaveText(`${overview.summary.fixable} Fixable`);

  // The artifact page: every finding, worst first.
  await row.getByRole('link', { name: /sha256:/ }).click();
  const section = page.getByRole('region', { name: 'Vulnerabilities' });
  const findings = section.locator('tbody.finding');
  await expect(findings).toHaveCount(total);
  // D1: libssl3 3.0.9-1 (source openssl), fixed in 3.0.11-1~deb12u2 by DSA-5532-1.
  const d1 = section.locator('tbody.finding[data-id="CVE-2023-5363"]').filter({ hasText: 'libssl3' });
  await expect(d1).toHaveCount(1);
  const d1Cells = d1.locator('tr').first().locator('td');
  await expect(d1Cells.nth(2)).toContainText('libssl3');
  await expect(d1Cells.nth(3)).toHaveText('3.0.9-1');
  await expect(d1Cells.nth(4)).toHaveText('3.0.11-1~deb12u2');
  // The tracker's data has no links: the id links to Debian's tracker, the source package is named.
  await expect(d1.getByRole('link', { name: 'CVE-2023-5363' }))
    .toHaveAttribute('href', 'https://security-tracker.debian.org/tracker/CVE-2023-5363');
  await expect(d1Cells.nth(2)).toHaveText('libssl3 (openssl)');
  // No fix yet: zlib's CVE-2023-45853 says so.
  const unfixed = section.locator('tbody.finding[data-id="CVE-2023-45853"]');
  await expect(unfixed.locator('tr').first().locator('td').nth(4)).toHaveText('no fix (ignored)');
  await expect(section.locator('tbody.finding[data-id="CVE-2025-9230"]').filter({ hasText: 'libssl3' })
    .locator('tr').first().locator('td').nth(4)).toHaveText('no fix (open)');
  // Negligible: tar's CVE-2005-2541.
  const negligible = section.locator('tbody.finding[data-id="CVE-2005-2541"]');
  await expect(negligible.locator('.severity-label')).toHaveText('Negligible');
  // Worst first: the first row's severity is the list's worst; the last rows are the negligible (or unknown).
  const labels = await section.locator('tbody.finding .severity-label').allTextContents();
  const rank = ['Critical', 'High', 'Medium', 'Low', 'Negligible', 'Unknown'];
  expect(labels.map((l) => rank.indexOf(l))).toEqual([...labels.map((l) => rank.indexOf(l))].sort((a, b) => a - b));

  // Filters: by text (a CVE id, a package, the source package), by severity, and both.
  const filter = section.getByRole('searchbox', { name: 'Filter by vulnerability or package' });
  await filter.fill('CVE-2023-5363');
  await expect(findings).not.toHaveCount(0);
  for (const id_ of await findings.evaluateAll((tb) => tb.map((t) => t.dataset.id))) expect(id_).toBe('CVE-2023-5363');
  await filter.fill('libssl3');
  await expect(findings.filter({ hasText: 'CVE-2023-5363' })).toHaveCount(1);
  for (const text of await findings.locator('tr:first-child td:nth-child(3)').allTextContents()) {
    expect(text).toContain('libssl3');
  }
  // The source package finds its binary packages: openssl's findings on libssl3 and openssl.
  await filter.fill('openssl');
  await expect(findings.filter({ hasText: 'CVE-2023-5363' })).toHaveCount(2);
  for (const text of await findings.locator('tr:first-child td:nth-child(3)').allTextContents()) {
    expect(text).toMatch(/^(openssl|libssl3 \(openssl\))$/);
  }
  await filter.fill('');
  const severity = section.getByRole('combobox', { name: 'Severity' });
  await severity.selectOption('Negligible');
  await expect(findings.filter({ hasText: 'CVE-2005-2541' })).toHaveCount(1);
  for (const l of await section.locator('tbody.finding .severity-label').allTextContents()) expect(l).toBe('Negligible');
  await filter.fill('zzz-no-such-package');
  await expect(section.getByText('No vulnerability matches the filters')).toBeVisible();
  await filter.fill('');
  await severity.selectOption('');
  await expect(findings).toHaveCount(total);

  // Sort by package, then by vulnerability id.
  const order = section.getByLabel('Sort by');
  await order.selectOption('package');
  const packages = await findings.locator('tr:first-child td:nth-child(3)').allTextContents();
  expect(packages).toEqual([...packages].sort());
  await order.selectOption('id');
  const ids = await findings.evaluateAll((tb) => tb.map((t) => t.dataset.id));
  expect(ids).toEqual([...ids].sort());

  // Nothing is allowlisted yet; the project's allowlist names CVE-2023-5363 in Configuration.
  await expect(section.locator('.allowlisted-mark')).toHaveCount(0);
  await page.goto(`/harbor/projects/${id}/configs`);
  await page.getByRole('radio', { name: 'Project allowlist' }).check();
  await page.getByRole('button', { name: 'Add', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'Add CVE IDs' });
  await dialog.getByLabel('CVE IDs').fill('CVE-2023-5363');
  await dialog.getByRole('button', { name: 'Add' }).click();
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByText('Configuration saved')).toBeVisible();

  // Back on the artifact page (no rescan): its CVE-2023-5363 rows are marked, and only they.
  await page.goto(`/harbor/projects/${id}/repositories/base/artifacts-tab/artifacts/${digest}`);
  await expect(findings).toHaveCount(total);
  const marked = section.locator('tbody.finding:has(.allowlisted-mark)');
  await expect(marked).not.toHaveCount(0);
  for (const id_ of await marked.evaluateAll((tb) => tb.map((t) => t.dataset.id))) expect(id_).toBe('CVE-2023-5363');
  await expect(d1.locator('.allowlisted-mark')).toHaveText('Allowlisted');
});

/// Pushes an artifact that is not a container image (a Helm chart's config) as `repository:tag`; returns its
/// digest.
async function pushChart(berth, repository, tag) {
  const config = await pushBlob(berth.url, repository, Buffer.from('{"name":"app","version":"1.0.0"}'));
  const layer = await pushBlob(berth.url, repository, Buffer.from('not really a chart'));
  return pushManifest(berth.url, repository, tag, OCI_MANIFEST, Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: 'application/vnd.cncf.helm.config.v1+json', ...config },
    layers: [{ mediaType: 'application/vnd.cncf.helm.chart.content.v1.tar+gzip', ...layer }],
  })));
}

test('an unscanned artifact says so in the list and on its page, and a refused Scan is a toast', async ({ page, berth }) => {
  await rest(berth, 'POST', '/projects', { project_name: 'scanme', metadata: { public: 'false' } });
  const { project_id: id } = await rest(berth, 'GET', '/projects/scanme');
  // Not an image: the server refuses to scan it (422), which the page shows.
  const digest = await pushChart(berth, 'scanme/app', 'v1');
  await signIn(page);

  const listed = page.waitForRequest((r) => r.url().includes('/repositories/app/artifacts?'));
  await page.goto(`/harbor/projects/${id}/repositories/app/artifacts-tab`);
  expect((await listed).url()).toContain('with_scan_overview=true');
  await expect(page.getByRole('columnheader', { name: 'Vulnerabilities' })).toBeVisible();
  const row = page.locator(`tr[data-digest="${digest}"]`);
  await expect(row.locator('.artifact-vulnerabilities')).toHaveText('Not Scanned');

  await row.getByRole('link', { name: /sha256:/ }).click();
  const section = page.getByRole('region', { name: 'Vulnerabilities' });
  await expect(section.getByText('Not scanned yet')).toBeVisible();
  await expect(section.getByText('Not Scanned', { exact: true })).toBeVisible();
  // The admin may scan (Harbor's matrix: project admins and maintainers); nothing runs, so no Stop.
  const scan = section.getByRole('button', { name: 'Scan' });
  await expect(scan).toBeVisible();
  await expect(section.getByRole('button', { name: 'Stop' })).toBeHidden();

  const [answer] = await Promise.all([
    page.waitForResponse((r) => /\/artifacts\/[^/]+\/scan$/.test(r.url()) && r.request().method() === 'POST'),
    scan.click(),
  ]);
  expect(answer.status()).toBe(422);
  const toast = page.locator('.toast.toast-error');
  await expect(toast).toContainText('cannot be scanned');
  // The page still works: the section and the button are there, ready for another try.
  await expect(section.getByText('Not scanned yet')).toBeVisible();
  await expect(scan).toBeEnabled();
});

test('a Developer sees no Scan button', async ({ page, berth }) => {
  await rest(berth, 'POST', '/projects', { project_name: 'devscan', metadata: { public: 'false' } });
  const { project_id: id } = await rest(berth, 'GET', '/projects/devscan');
  const digest = await pushTaggedImage(berth, 'devscan/app', 'v1');
  await rest(berth, 'POST', '/users', {
    username: 'dev', password: 'Developer1', email: 'dev@example.com', realname: 'Dev',
  });
  await rest(berth, 'POST', '/projects/devscan/members', { role_id: 2, member_user: { username: 'dev' } });
  await signIn(page, 'dev', 'Developer1');
  await page.goto(`/harbor/projects/${id}/repositories/app/artifacts-tab/artifacts/${digest}`);
  const section = page.getByRole('region', { name: 'Vulnerabilities' });
  await expect(section.getByText('Not scanned yet')).toBeVisible();
  await expect(section.getByRole('button', { name: 'Scan' })).toBeHidden();
});
