// The console's shell on every page: usable at 1024x768 without sideways scrolling of the page (wide tables
// scroll inside their card), each page's own title (`<Page> - <Project> - Berth`, as Harbor's tabs read), and
// text and buttons with WCAG AA contrast (4.5:1) in both themes. Every test here also fails on a
// Content-Security-Policy violation (fixtures.js).
const { test, expect, signIn, rest, pushTaggedImage } = require('./fixtures');

const PROJECT = 'layout-check-of-a-project-with-a-rather-long-name';
const REPO = 'team-with-a-long-name/service-with-an-even-longer-repository-name';

/// Fills every list with something, long names included; returns the project's id and the digest of the image
/// with five tags.
async function seed(berth) {
  await rest(berth, 'POST', '/projects', { project_name: PROJECT, metadata: { public: 'false' } });
  const { project_id: id } = await rest(berth, 'GET', `/projects/${PROJECT}`);
  let digest;
  for (const tag of ['v1.2.3-release-candidate-with-a-long-tag-name', 'latest', 'stable', 'v1', 'v1.2']) {
    digest = await pushTaggedImage(berth, `${PROJECT}/${REPO}`, tag, 'one');
  }
  await pushTaggedImage(berth, `${PROJECT}/${REPO}`, 'v2.0.0-another-long-tag-name-for-the-second-image', 'two');
  const username = 'a-user-with-a-rather-long-user-name';
  await rest(berth, 'POST', '/users', {
    username, password: 'Passw0rdLong', email: 'someone.with.a.long.address@subdomain.example.com',
    realname: 'Someone With A Rather Long Real Name', comment: 'made by the layout test',
  });
  await rest(berth, 'POST', `/projects/${PROJECT}/members`, { role_id: 2, member_user: { username } });
  await rest(berth, 'POST', '/usergroups', { group_name: 'a-group-with-a-long-name-for-the-list', group_type: 2 });
  await rest(berth, 'POST', `/projects/${PROJECT}/members`, {
    role_id: 3, member_group: { group_name: 'a-group-with-a-long-name-for-the-list', group_type: 2 },
  });
  await rest(berth, 'POST', '/robots', {
    name: 'project-robot-with-a-long-name', level: 'project', duration: -1,
    description: 'pulls and pushes for the build pipeline of a service with a long name',
    permissions: [{
      kind: 'project', namespace: PROJECT,
      access: [{ resource: 'repository', action: 'pull' }, { resource: 'repository', action: 'push' }],
    }],
  });
  await rest(berth, 'POST', '/robots', {
    name: 'system-robot-with-a-long-name', level: 'system', duration: 30,
    description: 'reads every project for the nightly mirror',
    permissions: [{ kind: 'project', namespace: '*', access: [{ resource: 'repository', action: 'pull' }] }],
  });
  await rest(berth, 'POST', '/registries', {
    name: 'an-endpoint-with-a-long-name', type: 'docker-registry',
    url: 'https://registry.with.a.long.host.name.example.com:5000', insecure: false,
    description: 'an upstream registry that is not there',
  });
  return { id, digest };
}

/// Waits until the page has loaded what it shows.
async function settle(page) {
  await page.waitForLoadState('networkidle');
  await expect(page.locator('.loading')).toHaveCount(0);
}

/// Whether the page scrolls sideways: `[scrollWidth, clientWidth]` of the document.
const pageWidths = (page) => page.evaluate(() => [
  document.documentElement.scrollWidth, document.documentElement.clientWidth,
]);

/// Opens `path`, and checks that the page does not scroll sideways and has `title`.
async function checkPage(page, path, title) {
  await page.goto(path);
  await settle(page);
  const [scrollWidth, clientWidth] = await pageWidths(page);
  expect.soft(scrollWidth, `${path} scrolls sideways at 1024 px`).toBeLessThanOrEqual(clientWidth);
  await expect.soft(page, path).toHaveTitle(title);
}

test('every page works at 1024x768 without sideways scrolling, with its own title', async ({ page, berth }) => {
  test.setTimeout(180_000);
  const { id, digest } = await seed(berth);
  await page.setViewportSize({ width: 1024, height: 768 });

  // The pages for signing in (and OIDC onboarding), before signing in.
  for (const [path, title] of [
    ['/oidc-onboard', 'Onboarding - Berth'], ['/harbor/sign-in', 'Sign In - Berth'], ['/account/sign-in', 'Sign In - Berth'],
  ]) {
    await checkPage(page, path, title);
  }
  await signIn(page);

  const project = `/harbor/projects/${id}`;
  const artifacts = `${project}/repositories/${encodeURIComponent(REPO)}/artifacts-tab`;
  const pages = [
    ['/harbor/projects', 'Projects - Berth'],
    [`${project}/summary`, `Summary - ${PROJECT} - Berth`],
    [`${project}/repositories`, `Repositories - ${PROJECT} - Berth`],
    [artifacts, `${REPO} - ${PROJECT} - Berth`],
    // An artifact's page: its tags, overview, build history and layers.
    [`${artifacts}/artifacts/${encodeURIComponent(digest)}`, `${digest.slice(0, 19)} - ${REPO} - ${PROJECT} - Berth`],
    [`${project}/members`, `Members - ${PROJECT} - Berth`],
    [`${project}/labels`, `Labels - ${PROJECT} - Berth`],
    [`${project}/tag-strategy`, `Policy - ${PROJECT} - Berth`],
    [`${project}/robot-account`, `Robot Accounts - ${PROJECT} - Berth`],
    [`${project}/webhook`, `Webhooks - ${PROJECT} - Berth`],
    [`${project}/logs`, `Logs - ${PROJECT} - Berth`],
    [`${project}/configs`, `Configuration - ${PROJECT} - Berth`],
    [`/harbor/search?q=${encodeURIComponent(digest)}`, 'Search - Berth'],
    ['/harbor/users', 'Users - Berth'],
    ['/harbor/groups', 'Groups - Berth'],
    ['/harbor/robot-accounts', 'Robot Accounts - Berth'],
    ['/harbor/registries', 'Registries - Berth'],
    ['/harbor/replications', 'Replications - Berth'],
    ['/harbor/labels', 'Labels - Berth'],
    ['/harbor/logs', 'Audit Log - Berth'],
    ['/harbor/interrogation-services/security-hub', 'Interrogation Services - Berth'],
    ['/harbor/interrogation-services/scanners', 'Interrogation Services - Berth'],
    ['/harbor/interrogation-services/vulnerability', 'Interrogation Services - Berth'],
    ['/harbor/clean-up/gc', 'Clean Up - Berth'],
    ['/harbor/clean-up/log-rotation', 'Clean Up - Berth'],
    ['/harbor/job-service-dashboard/pending-jobs', 'Job Service Dashboard - Berth'],
    ['/harbor/job-service-dashboard/schedules', 'Job Service Dashboard - Berth'],
    ['/harbor/job-service-dashboard/workers', 'Job Service Dashboard - Berth'],
    ['/harbor/configs/auth', 'Authentication - Configuration - Berth'],
    ['/harbor/configs/setting', 'System - Configuration - Berth'],
    ['/harbor/no-such-page', 'Page not found - Berth'],
    ['/no-such-page', 'Page not found - Berth'],
  ];
  for (const [path, title] of pages) {
    await checkPage(page, path, title);
  }

  // The artifacts' actions are reachable: inside the table's own scrolling card, not off the page.
  await page.goto(artifacts);
  await settle(page);
  const table = page.locator('main table').first();
  const right = await table.evaluate((t) => t.parentElement.getBoundingClientRect().right);
  expect(right, 'the card of the artifacts table ends inside the window').toBeLessThanOrEqual(1024);

  // The title follows the page as one navigates inside the console, too.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Projects' }).click();
  await expect(page).toHaveTitle('Projects - Berth');
});

/// WCAG 2.x contrast of every visible text on the page against what is behind it, and of specimens of each
/// button kind (also while hovered): the failures, as readable lines.
async function contrastFailures(page) {
  return page.evaluate(async () => {
    const canvas = document.createElement('canvas');
    canvas.width = 1;
    canvas.height = 1;
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    // Any CSS colour (rgb(), color(srgb …), oklab(…)) as [r, g, b, a], through the canvas.
    const rgba = (color) => {
      ctx.clearRect(0, 0, 1, 1);
      ctx.fillStyle = 'rgba(0, 0, 0, 0)';
      ctx.fillStyle = color;
      ctx.fillRect(0, 0, 1, 1);
      const [r, g, b, a] = ctx.getImageData(0, 0, 1, 1).data;
      return [r, g, b, a / 255];
    };
    const over = (top, bottom) => [0, 1, 2].map((i) => top[i] * top[3] + bottom[i] * (1 - top[3])).concat(1);
    // The opaque colour behind `el`: its background and its ancestors', composited.
    const background = (el) => {
      const layers = [];
      for (let node = el; node && node.nodeType === 1; node = node.parentElement) {
        const c = rgba(getComputedStyle(node).backgroundColor);
        if (c[3] > 0) layers.push(c);
        if (c[3] >= 1) break;
      }
      return layers.reverse().reduce((acc, layer) => over(layer, acc), [255, 255, 255, 1]);
    };
    const luminance = ([r, g, b]) => {
      const lin = (v) => {
        const s = v / 255;
        return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
      };
      return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
    };
    const ratio = (a, b) => {
      const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
      return (hi + 0.05) / (lo + 0.05);
    };
    const check = (el, what, failures) => {
      const style = getComputedStyle(el);
      const bg = background(el);
      const fg = over(rgba(style.color), bg);
      const size = parseFloat(style.fontSize);
      const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
      const needed = large ? 3 : 4.5;
      const r = ratio(fg, bg);
      if (r < needed) {
        failures.push(`${what}: ${r.toFixed(2)}:1 (${style.color} on rgb(${bg.slice(0, 3).join(',')}))`);
      }
    };
    const failures = [];
    const visible = (el) => {
      const r = el.getBoundingClientRect();
      const s = getComputedStyle(el);
      return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && Number(s.opacity) > 0;
    };
    // Every element that holds text of its own.
    for (const el of document.querySelectorAll('body *')) {
      if (['SCRIPT', 'STYLE', 'OPTION', 'TITLE', 'svg'].includes(el.tagName)) continue;
      if (el.closest('svg, .skip-link, .visually-hidden, :disabled, [aria-disabled="true"], select')) continue;
      const text = [...el.childNodes].filter((n) => n.nodeType === 3).map((n) => n.textContent.trim()).join('');
      if (!text || !visible(el)) continue;
      check(el, `"${text.slice(0, 40)}" (${el.tagName.toLowerCase()}.${[...el.classList].join('.')})`, failures);
    }
    // A specimen of each button kind, on a card and on the page, at rest and hovered (hover is a class here:
    // scripts cannot hover, so the :hover rules are read from the stylesheet by matching selectors instead).
    const host = document.createElement('div');
    host.className = 'card';
    host.innerHTML = ['', 'secondary', 'danger', 'small', 'small danger', 'small secondary']
      .map((kind) => `<button type="button" class="${kind}">${kind || 'primary'}</button>`).join('');
    (document.querySelector('main') || document.body).appendChild(host);
    for (const button of host.querySelectorAll('button')) {
      check(button, `button.${button.className || 'primary'} on a card`, failures);
    }
    const hoverRules = [];
    for (const sheet of document.styleSheets) {
      for (const rule of sheet.cssRules) {
        if (rule.selectorText && rule.selectorText.includes(':hover')) hoverRules.push(rule);
      }
    }
    for (const button of host.querySelectorAll('button')) {
      // Through the CSSOM only: the console's policy refuses style attributes.
      const set = [];
      for (const rule of hoverRules) {
        const plain = rule.selectorText.split(',').map((s) => s.trim()).filter((s) => s.includes(':hover'))
          .map((s) => s.replaceAll(':hover', '').replaceAll(':not(:disabled)', ''));
        if (plain.some((s) => { try { return button.matches(s); } catch (_) { return false; } })) {
          for (const prop of ['background', 'background-color', 'border-color', 'color']) {
            const value = rule.style.getPropertyValue(prop);
            if (value) {
              button.style.setProperty(prop, value);
              set.push(prop);
            }
          }
        }
      }
      check(button, `button.${button.className || 'primary'}:hover on a card`, failures);
      for (const prop of set) button.style.removeProperty(prop);
    }
    host.remove();
    return failures;
  });
}

test('text and every kind of button have at least 4.5:1 contrast in both themes', async ({ page, berth }) => {
  test.setTimeout(120_000);
  const { id } = await seed(berth);
  await signIn(page);
  const paths = [
    '/harbor/projects', `/harbor/projects/${id}/summary`, `/harbor/projects/${id}/members`,
    `/harbor/projects/${id}/tag-strategy`,
    `/harbor/projects/${id}/repositories/${encodeURIComponent(REPO)}/artifacts-tab`, '/harbor/users',
    '/harbor/configs/setting',
  ];
  for (const theme of ['light', 'dark']) {
    await page.evaluate((t) => localStorage.setItem('berth-theme', t), theme);
    for (const path of paths) {
      await page.goto(path);
      await settle(page);
      await expect(page.locator('html')).toHaveAttribute('data-theme', theme);
      expect(await contrastFailures(page), `${theme} theme, ${path}`).toEqual([]);
    }
  }
});
