// The hub's web interface in a real browser: Debian's chromium driven by puppeteer-core
// (nothing downloads a browser), every page checked by axe-core and saved as a screenshot at
// 1280 and 390 pixels wide. Run by tests/web/browser_test.cpp, which starts a hub with an
// organization, a team and a model, and passes:
//   LV_WEB_URL, LV_WEB_TOKEN (an org owner's admin-scoped token), LV_WEB_MODEL (owner/name),
//   LV_WEB_TEAM (org/team), LV_WEB_SHOTS (folder for screenshots), LV_CHROMIUM (the browser).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import puppeteer from 'puppeteer-core';
import axe from 'axe-core';

const base = process.env.LV_WEB_URL;
const token = process.env.LV_WEB_TOKEN;
const model = process.env.LV_WEB_MODEL;
const team = process.env.LV_WEB_TEAM;
const shots = process.env.LV_WEB_SHOTS;
mkdirSync(shots, { recursive: true });

// Screenshots at both widths, and axe at both (a layout may hide or break things on phones).
async function check(page, name) {
  const findings = [];
  for (const width of [1280, 390]) {
    await page.setViewport({ width, height: width === 1280 ? 900 : 844 });
    await page.screenshot({ path: join(shots, `${name}-${width}.png`), fullPage: true });
    await page.evaluate(axe.source);
    const result = await page.evaluate(() => axe.run(document, { resultTypes: ['violations'] }));
    for (const v of result.violations) {
      if (v.impact === 'serious' || v.impact === 'critical') {
        findings.push(`${name}@${width}: ${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
      }
    }
    // Nothing wider than the viewport: a page that scrolls sideways is broken on a phone.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `${name}@${width}: page is ${overflow}px wider than the window`);
  }
  await page.setViewport({ width: 1280, height: 900 });
  assert.deepEqual(findings, [], findings.join('\n'));
}

async function text(page) {
  return page.evaluate(() => document.body.innerText);
}

test('sign in, browse a model, read its card, grant a team, see it audited, sign out', async () => {
  const browser = await puppeteer.launch({
    executablePath: process.env.LV_CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--font-render-hinting=none'],
  });
  try {
    const page = await browser.newPage();
    const offsite = [];
    page.on('request', (r) => { if (!r.url().startsWith(base) && !r.url().startsWith('data:')) offsite.push(r.url()); });
    const reports = [];  // the compression report frame's responses
    page.on('response', (r) => { if (r.url().includes('/report/')) reports.push(r.status()); });
    const csp = [];
    page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) csp.push(m.text()); });
    await page.setViewport({ width: 1280, height: 900 });

    // Signed out: the home page offers a sign-in link; the private model is not listed.
    await page.goto(base + '/', { waitUntil: 'load' });
    assert.match(await text(page), /Sign in/);
    assert.doesNotMatch(await text(page), new RegExp(model.split('/')[1]));
    await check(page, '01-home-signed-out');
    // Keyboard: the first Tab reaches the skip link.
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Skip to content');

    // Sign in with the keyboard only: the token field has the focus, Enter submits.
    await page.goto(base + '/login', { waitUntil: 'load' });
    await check(page, '02-login');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'token');
    await page.keyboard.type(token);
    await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.keyboard.press('Enter')]);
    assert.equal(new URL(page.url()).pathname, '/');
    assert.equal(await page.evaluate(() => document.cookie.includes('lv_session')), false, 'session cookie readable from script');
    await check(page, '03-home');

    // Browse to the model and read its card.
    await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click(`a[href="/${model}"]`)]);
    const card = await text(page);
    assert.match(card, /Tiny Llama/);
    assert.match(card, /apache-2.0/);
    assert.match(card, /Latest commit/i);
    assert.equal(await page.$$eval('.markdown script, .markdown iframe, [onerror]', (n) => n.length), 0);
    assert.equal(await page.$eval('.report iframe', (f) => f.getAttribute('sandbox')), '');
    // Scrolled into view, so that the screenshot shows it, and loaded with the session.
    await page.$eval('.report iframe', (f) => f.scrollIntoView());
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.ok(reports.includes(200), `report frame answered ${reports}`);
    await check(page, '04-model');

    await page.goto(`${base}/${model}/tree/main`, { waitUntil: 'load' });
    await check(page, '05-files');
    await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click('a[href$="/blob/main/config.json"]')]);
    assert.match(await text(page), /Download/);
    await check(page, '06-file');
    await page.goto(`${base}/${model}/commits/main`, { waitUntil: 'load' });
    await check(page, '07-history');

    // Grant the team read access on the settings page.
    await page.goto(`${base}/${model}/settings`, { waitUntil: 'load' });
    await check(page, '08-settings');
    await page.type('#subject', `team:${team}`);
    await page.select('#role', 'read');
    await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click('form.grid-form button[type=submit]')]);
    const granted = await text(page);
    assert.match(granted, /Access updated/);
    assert.match(granted, new RegExp(`team ${team}`));
    await check(page, '09-granted');

    await page.goto(`${base}/orgs/${team.split('/')[0]}`, { waitUntil: 'load' });
    await check(page, '10-org');
    await page.goto(`${base}/settings/tokens`, { waitUntil: 'load' });
    await check(page, '11-tokens');

    // The grant is in the audit trail, and the chain verifies.
    await page.goto(`${base}/audit?action=grant.set`, { waitUntil: 'load' });
    const audit = await text(page);
    assert.match(audit, /Chain verified/);
    assert.match(audit, /grant\.set/);
    assert.match(audit, new RegExp(`team:${team}`));
    await check(page, '12-audit');
    // On a phone every entry stacks into labelled lines: the table does not scroll sideways
    // inside its box either, and each entry's details are shown whole.
    await page.goto(`${base}/audit`, { waitUntil: 'load' });
    await page.setViewport({ width: 390, height: 844 });
    const sideways = await page.$eval('.audit-wrap', (el) => el.scrollWidth - el.clientWidth);
    assert.ok(sideways <= 1, `audit@390: the table scrolls ${sideways}px sideways inside its box`);
    const label = await page.$eval('table.audit td.details', (el) => getComputedStyle(el, '::before').content);
    assert.equal(label, '"Details"');
    await page.screenshot({ path: join(shots, '12-audit-all-390.png'), fullPage: true });
    await page.setViewport({ width: 1280, height: 900 });

    // Sign out: the model is private again to this browser.
    await page.goto(`${base}/`, { waitUntil: 'load' });
    await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click('.account form button')]);
    assert.match(await text(page), /Sign in/);
    const after = await page.goto(`${base}/${model}`, { waitUntil: 'load' });
    assert.equal(after.status(), 404);
    await check(page, '13-not-found');

    assert.deepEqual(offsite, [], 'requests left the hub');
    assert.deepEqual(csp, [], 'the page broke its own Content-Security-Policy');
  } finally {
    await browser.close();
  }
});
