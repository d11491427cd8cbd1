// The operator's and developer's path through the console, with a real registry client: sign in, create a
// project, create a robot and read its secret from the page, push with skopeo using that robot and the page's own
// push command, see the repository and artifact, pull with skopeo and see the pull count go from 0 to 1, add a
// user as Guest, and check as that user that nothing can be deleted (no buttons, and the server refuses anyway).
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { test, expect, signIn, screenshot, writeOciLayout, ADMIN_AUTH } = require('./fixtures');

const PROJECT = 'shop';
const GUEST = 'gwen';
const GUEST_PASSWORD = 'Guest-Pass1';

/// Runs skopeo with a throwaway HOME (no stored credentials, no blob-info cache).
function skopeo(args, home) {
  return execFileSync('skopeo', args, { env: { ...process.env, HOME: home }, encoding: 'utf8', stdio: 'pipe' });
}

/// Splits a shell command line of plain words (what the push commands are) into arguments.
const words = (line) => line.trim().split(/\s+/);

test('a robot pushes with skopeo, pulls are counted, and a guest cannot delete', async ({ page, berth }) => {
  test.setTimeout(120_000);
  const host = new URL(berth.url).host;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-workflow-'));
  try {
    // Sign in and create the project through the dialog.
    await signIn(page);
    await page.getByRole('button', { name: '+ New Project' }).click();
    const create = page.getByRole('dialog', { name: 'New Project' });
    await create.getByLabel('Project Name').fill(PROJECT);
    await create.getByRole('button', { name: 'OK' }).click();
    await expect(create).toBeHidden();
    await page.locator(`tr[data-project="${PROJECT}"]`).getByRole('link', { name: PROJECT }).click();
    await expect(page).toHaveURL(/\/harbor\/projects\/\d+\/summary$/);
    const projectUrl = page.url().replace(/\/summary$/, '');
    const tabs = page.getByRole('navigation', { name: 'Project' });

    // A robot that may push and pull; its secret is read from the page.
    await tabs.getByRole('link', { name: 'Robot Accounts' }).click();
    await page.getByRole('button', { name: '+ New Robot Account' }).click();
    const robotDialog = page.getByRole('dialog', { name: 'New Robot Account' });
    await robotDialog.getByLabel('Name', { exact: true }).fill('ci');
    await robotDialog.getByRole('checkbox', { name: 'Repository: pull' }).check();
    await robotDialog.getByRole('checkbox', { name: 'Repository: push' }).check();
    await robotDialog.getByRole('button', { name: 'Add' }).click();
    const created = page.getByRole('dialog', { name: 'Robot account created' });
    const robotName = await created.getByLabel('Name', { exact: true }).inputValue();
    const secret = await created.getByLabel('Secret', { exact: true }).inputValue();
    expect(robotName).toBe(`robot$${PROJECT}+ci`);
    expect(secret.length).toBeGreaterThan(7);
    await created.getByRole('button', { name: 'Close' }).last().click();

    // The page's own skopeo push command, with this test's image as the source and the robot's credentials.
    await tabs.getByRole('link', { name: 'Summary' }).click();
    const pushLine = page.locator('.push-tool[data-tool="skopeo"] code', { hasText: 'skopeo copy' });
    const command = (await pushLine.textContent()).trim();
    expect(command).toBe(
      `skopeo copy --dest-tls-verify=false docker-daemon:SOURCE_IMAGE:TAG docker://${host}/${PROJECT}/REPOSITORY:TAG`,
    );
    const digest = writeOciLayout(path.join(work, 'image'), 'v1');
    const args = words(command)
      .slice(1)
      .map((word) => word
        .replace('docker-daemon:SOURCE_IMAGE:TAG', `oci:${path.join(work, 'image')}:v1`)
        .replace('REPOSITORY:TAG', 'web:v1'));
    skopeo([...args.slice(0, 1), '--dest-creds', `${robotName}:${secret}`, ...args.slice(1)], work);

    // The repository and its artifact appear, not pulled yet.
    await tabs.getByRole('link', { name: 'Repositories' }).click();
    const repoRow = page.locator('tr', { has: page.getByRole('link', { name: `${PROJECT}/web` }) });
    await expect(repoRow).toBeVisible();
    await repoRow.getByRole('link', { name: `${PROJECT}/web` }).click();
    await expect(page).toHaveURL(/\/repositories\/web\/artifacts-tab$/);
    const artifact = page.locator(`tr.artifact-row[data-digest="${digest}"]`);
    await expect(artifact.locator('.tag-chip')).toHaveText(['v1']);
    await expect(artifact.locator('.artifact-pulls')).toHaveText('0');
    await expect(artifact.locator('.pull-command'))
      .toHaveAttribute('data-pull-command', `docker pull ${host}/${PROJECT}/web:v1`);
    await screenshot(page, 'workflow-artifacts');

    // Pull with skopeo as the robot; after a reload the artifact shows one pull (counts are written about once
    // a second, so reload until it shows).
    skopeo(['copy', '--src-tls-verify=false', '--src-creds', `${robotName}:${secret}`,
      `docker://${host}/${PROJECT}/web:v1`, `oci:${path.join(work, 'pulled')}:v1`], work);
    await expect(async () => {
      await page.reload();
      await expect(artifact.locator('.artifact-pulls')).toHaveText('1', { timeout: 1_000 });
    }).toPass({ timeout: 15_000 });

    // A user joins the project as Guest.
    const user = await page.request.post('/api/v2.0/users', {
      headers: { Authorization: ADMIN_AUTH },
      data: { username: GUEST, password: GUEST_PASSWORD, email: 'gwen@example.com', realname: 'Gwen' },
    });
    expect(user.status(), await user.text()).toBe(201);
    await page.goto(`${projectUrl}/members`);
    await page.getByRole('button', { name: '+ User' }).click();
    const member = page.getByRole('dialog', { name: 'New Member' });
    await member.getByLabel('Name', { exact: true }).fill(GUEST);
    await member.getByRole('radio', { name: 'Guest', exact: true }).check();
    await member.getByRole('button', { name: 'OK' }).click();
    await expect(page.locator(`tr[data-member="${GUEST}"]`)).toContainText('Guest');

    // Sign out, and in as the guest.
    await page.getByRole('button', { name: 'admin ▾' }).click();
    await page.getByRole('menuitem', { name: 'Log Out' }).click();
    await expect(page).toHaveURL(/\/account\/sign-in$/);
    await signIn(page, GUEST, GUEST_PASSWORD);
    await expect(page.getByRole('heading', { name: 'Projects' })).toBeVisible();

    // The guest sees the project, its repository and artifact, but no way to delete any of them.
    const projectRow = page.locator(`tr[data-project="${PROJECT}"]`);
    await expect(projectRow).toBeVisible();
    await expect(page.getByRole('link', { name: 'Users' })).toHaveCount(0);
    await expect(projectRow.getByRole('button', { name: /Delete/i })).toHaveCount(0);
    await page.goto(`${projectUrl}/repositories`);
    await expect(repoRow).toBeVisible();
    await expect(page.getByRole('button', { name: /Delete/i })).toHaveCount(0);
    await repoRow.getByRole('link', { name: `${PROJECT}/web` }).click();
    await expect(artifact.locator('.artifact-pulls')).toHaveText('1');
    await expect(page.getByRole('button', { name: /Delete/i })).toHaveCount(0);
    await screenshot(page, 'workflow-guest-artifacts');

    // Forcing it with the guest's own session (and its CSRF token) is refused by the server.
    const refused = await page.evaluate(async ({ project, digest }) => {
      const probe = await fetch('/api/v2.0/users/current', { headers: { 'X-Requested-With': 'XMLHttpRequest' } });
      const token = probe.headers.get('X-Harbor-CSRF-Token');
      const headers = { 'X-Harbor-CSRF-Token': token, 'X-Requested-With': 'XMLHttpRequest' };
      const statuses = [];
      for (const url of [
        `/api/v2.0/projects/${project}/repositories/web/artifacts/${digest}`,
        `/api/v2.0/projects/${project}/repositories/web`,
        `/api/v2.0/projects/${project}`,
      ]) {
        statuses.push((await fetch(url, { method: 'DELETE', headers })).status);
      }
      return statuses;
    }, { project: PROJECT, digest });
    expect(refused).toEqual([403, 403, 403]);
    await page.reload();
    await expect(artifact).toBeVisible();

    // Signing out ends the guest's session.
    await page.getByRole('button', { name: `${GUEST} ▾` }).click();
    await page.getByRole('menuitem', { name: 'Log Out' }).click();
    await expect(page).toHaveURL(/\/account\/sign-in$/);
    await page.goto(`${projectUrl}/repositories`);
    await expect(page).toHaveURL(/\/account\/sign-in\?redirect_url=/);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
});
