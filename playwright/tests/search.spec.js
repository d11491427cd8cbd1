// The top bar's global search (Harbor's): by digest, by project name and by label, each result linking to its
// page; and what a project hides from a user is hidden from their search too.
const { test, expect, signIn, screenshot, rest, pushTaggedImage } = require('./fixtures');

const search = async (page, term) => {
  const box = page.getByRole('search').getByLabel('Search Berth');
  await box.fill(term);
  await box.press('Enter');
  await expect(page).toHaveURL(/\/harbor\/search\?q=/);
  await expect(page.getByTestId('search-term')).toHaveText(`for “${term}”`);
};

test('the search box finds artifacts by digest, projects by name and repositories by label', async ({ page, berth }) => {
  await rest(berth, 'POST', '/projects', { project_name: 'shop', metadata: { public: 'true' } });
  await rest(berth, 'POST', '/projects', { project_name: 'vault', metadata: { public: 'false' } });
  const shop = await rest(berth, 'GET', '/projects/shop');
  const web = await pushTaggedImage(berth, 'shop/web', 'v1', 'web');
  const secret = await pushTaggedImage(berth, 'vault/secret', 'v1', 'secret');
  await rest(berth, 'POST', '/labels', { name: 'gold', scope: 'g' });
  const [{ id: gold }] = await rest(berth, 'GET', '/labels?scope=g&name=gold');
  await rest(berth, 'POST', '/projects/shop/repositories/web/artifacts/v1/labels', { id: gold });
  await rest(berth, 'POST', '/users', {
    username: 'carol', password: 'Passw0rdCarol', email: 'carol@example.com', realname: 'Carol',
  });

  await signIn(page);
  await expect(page).toHaveURL(/\/harbor\/projects$/);

  // A digest: the repository holding it, with the artifact and its tag; the digest opens the artifact's page.
  await search(page, web);
  const repositories = page.getByRole('region', { name: /^Repositories/ });
  await expect(repositories.getByRole('row')).toHaveCount(2);
  await expect(repositories.getByRole('link', { name: 'shop/web' })).toBeVisible();
  await expect(repositories).toContainText('(v1)');
  await expect(page.getByRole('region', { name: /^Projects/ })).toContainText('No project matches.');
  await screenshot(page, 'search-digest');
  await repositories.getByRole('link', { name: web.slice(0, 'sha256:'.length + 8) }).click();
  await expect(page).toHaveURL(
    `${berth.url}/harbor/projects/${shop.project_id}/repositories/web/artifacts-tab/artifacts/${encodeURIComponent(web)}`,
  );

  // A project's name: the project, which opens its repositories.
  await search(page, 'sho');
  const projects = page.getByRole('region', { name: /^Projects/ });
  await expect(projects.getByRole('link', { name: 'shop' })).toBeVisible();
  await expect(projects).toContainText('Public');
  await expect(projects.getByRole('link', { name: 'vault' })).toHaveCount(0);
  await projects.getByRole('link', { name: 'shop' }).click();
  await expect(page).toHaveURL(`${berth.url}/harbor/projects/${shop.project_id}/repositories`);

  // A label: the repositories with artifacts carrying it; the repository opens its artifacts.
  await search(page, 'gold');
  await expect(repositories.getByRole('row')).toHaveCount(2);
  await repositories.getByRole('link', { name: 'shop/web' }).click();
  await expect(page).toHaveURL(`${berth.url}/harbor/projects/${shop.project_id}/repositories/web/artifacts-tab`);

  // A short digest prefix is refused by the server, and the page says why.
  await search(page, 'sha256:abc');
  await expect(page.getByRole('alert')).toContainText('hex digits');

  // The administrator finds the private project's artifact; Carol, no member of it, does not.
  await search(page, secret);
  await expect(repositories.getByRole('link', { name: 'vault/secret' })).toBeVisible();
  await page.context().clearCookies();
  await signIn(page, 'carol', 'Passw0rdCarol');
  await search(page, secret);
  await expect(repositories).toContainText('No repository matches.');
  await search(page, web);
  await expect(repositories.getByRole('link', { name: 'shop/web' })).toBeVisible();
});
