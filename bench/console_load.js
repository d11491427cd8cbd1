// First load of the console: from page.goto('/account/sign-in') in a fresh browser context (empty cache) until
// the WASM app has rendered the sign-in form, N times, against a running Berth.
//
//   node bench/console_load.js http://127.0.0.1:8080 [runs]
//
// Uses playwright-core from playwright/node_modules and Debian's /usr/bin/chromium (never downloads a browser).
const path = require('node:path');
const { chromium } = require(path.join(__dirname, '..', 'playwright', 'node_modules', 'playwright-core'));

async function main() {
  const url = process.argv[2];
  const runs = Number(process.argv[3] || 9);
  if (!url) throw new Error('usage: node bench/console_load.js URL [runs]');
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run'],
  });
  const times = [];
  for (let i = 0; i < runs; i += 1) {
    const context = await browser.newContext();
    const page = await context.newPage();
    const started = Date.now();
    await page.goto(`${url}/account/sign-in`);
    await page.getByLabel('Username').waitFor();
    times.push(Date.now() - started);
    await context.close();
  }
  await browser.close();
  times.sort((a, b) => a - b);
  console.log(`first load over ${runs} runs: min ${times[0]} ms, median ${times[Math.floor(runs / 2)]} ms, max ${times[runs - 1]} ms`);
}

main().catch((e) => { console.error(e); process.exit(1); });
