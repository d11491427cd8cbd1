// The project's Policy tab, Tag Retention: a rule added in Harbor's dialog, a dry run whose per-tag reasons say
// what would go and why (an immutable tag is kept and says so), a real run that removes the tag, and the
// schedule.
const {
  test, expect, signIn, screenshot, rest, pushTaggedImage,
} = require('./fixtures');

test('a retention rule is dry-run, explained tag by tag, and run', async ({ page, berth }) => {
  await rest(berth, 'POST', '/projects', { project_name: 'proj', metadata: { public: 'false' } });
  const project = await rest(berth, 'GET', '/projects/proj');
  // Oldest first: v1 (immutable), v2, then v3, the most recently pushed.
  for (const tag of ['v1', 'v2', 'v3']) await pushTaggedImage(berth, 'proj/app', tag, `app ${tag}`);
  await rest(berth, 'POST', '/projects/proj/immutabletagrules', {
    disabled: false, action: 'immutable', template: 'immutable_template', params: {},
    tag_selectors: [{ kind: 'doublestar', decoration: 'matches', pattern: 'v1' }],
    scope_selectors: { repository: [{ kind: 'doublestar', decoration: 'repoMatches', pattern: '**' }] },
  });

  await signIn(page);
  await expect(page).toHaveURL(/\/harbor\/projects$/);
  await page.goto(`/harbor/projects/${project.project_id}/tag-strategy`);
  await expect(page.getByRole('heading', { name: 'Tag Retention' })).toBeVisible();
  const rules = page.locator('table.retention-rules');
  await expect(rules).toContainText('No retention rules');
  await expect(page.locator('.rule-count')).toHaveText('0/15');
  await expect(page.getByRole('button', { name: 'Dry Run' })).toHaveCount(0);

  // Harbor's dialog: every repository, the most recently pushed 1, every tag (untagged included).
  await page.getByRole('button', { name: '+ Add Retention Rule' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add Retention Rule' });
  await expect(dialog.getByLabel('For the repositories', { exact: true })).toHaveValue('**');
  await expect(dialog.getByLabel('By artifact count or number of days'))
    .toHaveValue('latestPushedK');
  await dialog.getByRole('button', { name: 'OK' }).click();
  await expect(dialog.getByRole('alert')).toContainText('whole number');
  await dialog.getByLabel('Count', { exact: true }).fill('1');
  await dialog.getByRole('button', { name: 'OK' }).click();
  await expect(dialog).toBeHidden();
  const rule = rules.locator('tr[data-rule]');
  await expect(rule).toHaveCount(1);
  await expect(rule.locator('.rule-text')).toHaveText(
    'For the repositories matching **, retain the most recently pushed 1 artifacts with tags matching ** with untagged artifacts',
  );
  await expect(page.locator('.rule-count')).toHaveText('1/15');
  const stored = await rest(berth, 'GET', '/projects/proj');
  const policyId = stored.metadata.retention_id;
  expect(policyId).toBeTruthy();
  const policy = await rest(berth, 'GET', `/retentions/${policyId}`);
  expect(policy.rules[0].params).toEqual({ latestPushedK: 1 });

  // The schedule: Daily, saved into the policy's trigger.
  await page.getByLabel('Schedule').selectOption('Daily');
  await expect(page.getByLabel('Cron')).toHaveValue('0 0 0 * * *');
  await page.locator('form.retention-schedule').getByRole('button', { name: 'Save' }).click();
  await expect.poll(async () => (await rest(berth, 'GET', `/retentions/${policyId}`)).trigger.settings.cron)
    .toBe('0 0 0 * * *');

  // Dry Run: the run reaches Success; its task explains each tag.
  await page.getByRole('button', { name: 'Dry Run' }).click();
  const runs = page.locator('table.retention-executions');
  const first = runs.locator('tr[data-execution]').first();
  await expect(first.locator('.execution-status')).toHaveText('Success', { timeout: 30_000 });
  await expect(first).toContainText('Yes');
  await expect(first).toContainText('Manual');
  await first.getByRole('button', { name: /^Tasks of run/ }).click();
  const task = runs.locator('table.retention-tasks tr[data-repository]');
  await expect(task).toHaveCount(1);
  await expect(task).toContainText('2/3');
  await task.getByRole('button', { name: 'Reasons' }).click();
  const reasons = page.getByRole('dialog', { name: /^Retention of .*app$/ });
  const row = (tag) => reasons.locator(`table.retention-reasons tr[data-tag="${tag}"]`);
  await expect(row('v3').locator('.reason-fate')).toHaveText('Retained');
  await expect(row('v3').locator('.reason-text')).toContainText('kept by rule 1');
  await expect(row('v2').locator('.reason-fate')).toHaveText('Removed');
  await expect(row('v2').locator('.reason-text')).toContainText('removed: matched no retain rule');
  await expect(row('v1').locator('.reason-fate')).toHaveText('Retained');
  await expect(row('v1').locator('.reason-text')).toContainText('immutable tag');
  await screenshot(page, 'retention-reasons');
  await reasons.getByRole('button', { name: 'Close' }).click();
  await expect(reasons).toBeHidden();
  // A dry run removes nothing.
  let tags = (await rest(berth, 'GET', '/projects/proj/repositories/app/artifacts/v2/tags')).map((t) => t.name);
  expect(tags).toEqual(['v2']);

  // Run Now, after a confirmation: v2 goes, v1 (immutable) and v3 stay.
  await page.getByRole('button', { name: 'Run Now' }).click();
  await page.getByRole('dialog', { name: 'Run Retention' }).getByRole('button', { name: 'Run' }).click();
  await expect(runs.locator('tr[data-execution]')).toHaveCount(2);
  await expect(first.locator('.execution-status')).toHaveText('Success', { timeout: 30_000 });
  await expect(first).toContainText('No');
  await screenshot(page, 'retention-runs');

  await page.goto(`/harbor/projects/${project.project_id}/repositories/app/artifacts-tab`);
  const chips = page.locator('tr.artifact-row .tag-chip');
  await expect(chips).toHaveCount(2);
  await expect(page.locator('tr.artifact-row .tag-chip', { hasText: 'v3' })).toBeVisible();
  await expect(page.locator('tr.artifact-row .tag-chip', { hasText: 'v1' })).toBeVisible();
  await expect(page.locator('tr.artifact-row .tag-chip', { hasText: 'v2' })).toHaveCount(0);

  // Edit the rule, disable it, delete it.
  await page.goto(`/harbor/projects/${project.project_id}/tag-strategy`);
  await rule.getByRole('button', { name: 'Edit' }).click();
  const edit = page.getByRole('dialog', { name: 'Edit Retention Rule' });
  await expect(edit.getByLabel('Count', { exact: true })).toHaveValue('1');
  await edit.getByLabel('By artifact count or number of days').selectOption('nDaysSinceLastPush');
  await edit.getByLabel('Days', { exact: true }).fill('7');
  await edit.getByLabel('Tags', { exact: true }).fill('v*, release-*');
  await edit.getByLabel('included', { exact: true }).uncheck();
  await edit.getByRole('button', { name: 'OK' }).click();
  await expect(edit).toBeHidden();
  await expect(rule.locator('.rule-text')).toHaveText(
    'For the repositories matching **, retain pushed within the last 7 days with tags matching v*,release-*',
  );
  await rule.getByRole('button', { name: 'Disable' }).click();
  await expect(rule.locator('.rule-status')).toHaveText('Disabled');
  // As in Harbor's portal, a rule goes at once (it is one click to add again).
  await rule.getByRole('button', { name: 'Delete' }).click();
  await expect(rules).toContainText('No retention rules');
  await expect(page.locator('.rule-count')).toHaveText('0/15');
});

test('a maintainer sees a policy made over the API and dry-runs it', async ({ page, berth }) => {
  await rest(berth, 'POST', '/projects', { project_name: 'proj', metadata: { public: 'false' } });
  const project = await rest(berth, 'GET', '/projects/proj');
  await rest(berth, 'POST', '/users', {
    username: 'keeper', password: 'Maintainer1', email: 'keeper@example.com', realname: 'Keeper',
  });
  await rest(berth, 'POST', '/projects/proj/members', { role_id: 4, member_user: { username: 'keeper' } });
  await rest(berth, 'POST', '/retentions', {
    algorithm: 'or',
    rules: [{
      disabled: false, action: 'retain', template: 'always', params: {},
      tag_selectors: [{ kind: 'doublestar', decoration: 'matches', pattern: '**', extras: '{"untagged":false}' }],
      scope_selectors: { repository: [{ kind: 'doublestar', decoration: 'repoMatches', pattern: 'app' }] },
    }],
    trigger: { kind: 'Schedule', settings: { cron: '0 30 2 * * *' } },
    scope: { level: 'project', ref: project.project_id },
  });

  await signIn(page, 'keeper', 'Maintainer1');
  await expect(page).toHaveURL(/\/harbor\/projects$/);
  await page.goto(`/harbor/projects/${project.project_id}/tag-strategy`);
  const rule = page.locator('table.retention-rules tr[data-rule]');
  await expect(rule.locator('.rule-text')).toHaveText(
    'For the repositories matching app, retain always with tags matching **',
  );
  await expect(page.getByLabel('Schedule')).toHaveValue('Custom');
  await expect(page.getByLabel('Cron')).toHaveValue('0 30 2 * * *');
  await expect(rule.getByRole('button', { name: 'Edit' })).toBeVisible();
  await page.getByRole('button', { name: 'Dry Run' }).click();
  await expect(page.locator('table.retention-executions tr[data-execution] .execution-status'))
    .toHaveText('Success', { timeout: 30_000 });
});
