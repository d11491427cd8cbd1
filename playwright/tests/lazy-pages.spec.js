// Lazily loaded pages (the administration pages are Leptos LazyRoutes, split off by scripts/build-console.sh): the
// first load fetches only the main module; a lazy page's module (and any chunk of code it shares with other lazy
// pages) comes from the server the first time its route is visited, once, as a fingerprinted, cacheable
// application/wasm file, and the page then works as any other (the pages' own specs use them).
const { test, expect, signIn } = require('./fixtures');

test('the Registries page is a module of its own, fetched once when the route is first visited', async ({ page }) => {
  const lazy = [];
  page.on('response', (response) => {
    if (/\/assets\/(split|chunk)_[^/]*\.wasm$/.test(new URL(response.url()).pathname)) lazy.push(response);
  });

  await signIn(page);
  await expect(page.getByRole('heading', { name: 'Projects' })).toBeVisible();
  expect(lazy, 'the first load fetches no lazy module').toEqual([]);

  const nav = page.getByRole('navigation', { name: 'Main' });
  await nav.getByRole('link', { name: 'Registries' }).click();
  await expect(page.getByRole('heading', { name: 'Registries' })).toBeVisible();
  await expect(page.getByRole('button', { name: '+ New Endpoint' })).toBeVisible();
  const fetched = lazy.map((r) => new URL(r.url()).pathname);
  expect(fetched).toContainEqual(
    expect.stringMatching(/^\/assets\/split___registries_route_view_\d+\.[0-9a-f]{16}\.wasm$/));
  expect(fetched.filter((p) => p.startsWith('/assets/split_'))).toHaveLength(1);
  for (const response of lazy) {
    expect(response.status()).toBe(200);
    const headers = response.headers();
    expect(headers['content-type']).toBe('application/wasm');
    expect(headers['cache-control']).toContain('immutable');
  }
  const count = lazy.length;

  // Away and back: the module is instantiated once per visit of the console, not per navigation.
  await nav.getByRole('link', { name: 'Projects' }).click();
  await expect(page.getByRole('heading', { name: 'Projects' })).toBeVisible();
  await nav.getByRole('link', { name: 'Registries' }).click();
  await expect(page.getByRole('heading', { name: 'Registries' })).toBeVisible();
  expect(lazy).toHaveLength(count);
});

test('a lazy module that cannot be fetched (a tab left open across an upgrade) reloads the console once', async ({ page }) => {
  // The failed load panics (the console logs it and its module stops: a RuntimeError); the page then reloads.
  page.allowedErrors = [/RuntimeError: unreachable/];
  await signIn(page);
  await expect(page.getByRole('heading', { name: 'Projects' })).toBeVisible();
  // The first request for the Registries module fails, as a module an upgrade removed would; later ones pass.
  let refused = 0;
  await page.route(/\/assets\/split___registries_route_view_[^/]*\.wasm$/, async (route) => {
    if (refused === 0) {
      refused += 1;
      await route.fulfill({ status: 404, body: 'not found' });
    } else {
      await route.continue();
    }
  });
  const nav = page.getByRole('navigation', { name: 'Main' });
  const reloaded = page.waitForEvent('load');
  await nav.getByRole('link', { name: 'Registries' }).click();
  await reloaded;
  expect(refused).toBe(1);
  // The reloaded console works: the page that was open is back, and Registries now loads.
  await expect(page.getByRole('heading', { name: 'Projects' })).toBeVisible();
  await nav.getByRole('link', { name: 'Registries' }).click();
  await expect(page.getByRole('heading', { name: 'Registries' })).toBeVisible();
  await expect(page.getByRole('button', { name: '+ New Endpoint' })).toBeVisible();
});

test('the Replications page is a module of its own too', async ({ page }) => {
  const lazy = [];
  page.on('response', (response) => {
    if (/\/assets\/split_[^/]*\.wasm$/.test(new URL(response.url()).pathname)) lazy.push(new URL(response.url()).pathname);
  });
  await signIn(page);
  await expect(page.getByRole('heading', { name: 'Projects' })).toBeVisible();
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Replications' }).click();
  await expect(page.getByRole('button', { name: '+ New Replication Rule' })).toBeVisible();
  expect(lazy).toEqual([expect.stringMatching(/^\/assets\/split___replications_route_view_\d+\.[0-9a-f]{16}\.wasm$/)]);
});
