// Accessibility: axe-core (WCAG 2.0/2.1 A and AA rules) finds no serious or critical
// violation on the pages staff use.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { checkPage } from './axe.mjs';
import {
  completeSecondFactor,
  launchBrowser,
  login,
  startServer,
  submitPassword,
} from './server.mjs';

/** Opens `url` and checks the HTTP status before running axe. */
async function open(page, url, status = 200) {
  const res = await page.goto(url);
  assert.equal(res.status(), status, `HTTP status of ${url}`);
}

describe('accessibility (axe, WCAG 2.1 AA)', () => {
  let server;
  let browser;
  let base;
  const contexts = [];
  let lege; // lege's page, logged in after the enrolment test
  let patient; // { url, nationalId } of lege's first patient

  async function newPage() {
    const context = await browser.newContext({ locale: 'nb-NO' });
    contexts.push(context);
    return context.newPage();
  }

  before(async () => {
    server = await startServer();
    base = server.base;
    browser = await launchBrowser();
  });

  after(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await server?.stop();
  });

  for (const lang of ['nb', 'nn', 'en']) {
    test(`login page (${lang})`, async () => {
      const page = await newPage();
      await open(page, `${base}/login?lang=${lang}`);
      await checkPage(page, `login-${lang}`);
    });
  }

  test('login page after a failed login', async () => {
    const page = await newPage();
    await open(page, `${base}/login`);
    await page.fill('#username', 'sykepleier');
    await page.fill('#password', 'feil-passord-999');
    await page.locator('form[action="/login"] button[type="submit"]').click();
    await page.locator('#login-error').waitFor({ state: 'visible' });
    await checkPage(page, 'login-failed');
  });

  test('TOTP enrolment page', async () => {
    lege = await newPage();
    const where = await submitPassword(lege, base, 'lege');
    assert.equal(where, '/login/enrol');
    await lege.locator('#totp-secret').waitFor();
    await checkPage(lege, 'enrol');
    await completeSecondFactor(lege, base, 'lege');
  });

  test('start page with the work list (lege)', async () => {
    assert.ok(lege, 'lege is logged in');
    await open(lege, `${base}/`);
    await lege.locator('table.list tbody a[href^="/patients/"]').first().waitFor();
    await checkPage(lege, 'home-lege');
  });

  test('patient page', async () => {
    await open(lege, `${base}/`);
    await lege.locator('table.list tbody a[href^="/patients/"]').first().click();
    await lege.waitForURL((u) => u.pathname.startsWith('/patients/'));
    await lege.locator('dl.facts').waitFor();
    const facts = await lege.locator('dl.facts dd').allInnerTexts();
    const nationalId = facts.map((t) => t.trim()).find((t) => /^\d{11}$/.test(t));
    assert.ok(nationalId, `the patient page shows an 11-digit national id (${facts.join(' | ')})`);
    patient = { url: lege.url(), nationalId };
    await checkPage(lege, 'patient');
  });

  test('register-patient page', async () => {
    await open(lege, `${base}/patients/new`);
    await lege.locator('form[action="/patients"]').waitFor();
    await checkPage(lege, 'patient-new');
  });

  test('emergency-access page (annenlege)', async () => {
    assert.ok(patient, 'a patient was found as lege');
    const page = await newPage();
    await login(page, base, 'annenlege');
    await page.fill('#national_id', patient.nationalId);
    await page.locator('form[action="/patients/find"] button[type="submit"]').click();
    await page.locator('form[action$="/emergency-access"] #reason').waitFor();
    await checkPage(page, 'emergency');
  });

  test('admin pages (admin)', async () => {
    const page = await newPage();
    await login(page, base, 'admin');
    const pages = [
      ['/admin/staff', '/admin/staff'],
      ['/admin/units', '/admin/units'],
      ['/admin/settings', '/admin/settings'],
      ['/admin/outbox', '/admin/outbox/test'],
    ];
    for (const [p, form] of pages) {
      await open(page, `${base}${p}`);
      await page.locator(`form[action="${form}"]`).waitFor();
      await checkPage(page, p.slice(1).replace('/', '-'));
    }
    // The outbox with a message in it (the development outbox keeps it).
    await page.locator('#recipient').fill('it@fjordvik.example');
    await page.locator('form[action="/admin/outbox/test"] button[type="submit"]').click();
    await page.waitForURL((u) => u.pathname === '/admin/outbox' && u.search.includes('done=queued'));
    await page.locator('table.list tbody tr').first().waitFor();
    await checkPage(page, 'admin-outbox-with-message');
  });

  test('audit page (personvern)', async () => {
    const page = await newPage();
    await login(page, base, 'personvern');
    await open(page, `${base}/audit`);
    await page.locator('table.audit').waitFor();
    await checkPage(page, 'audit');
  });

  test('appointment pages (lege)', async () => {
    await open(lege, `${base}/appointments`);
    await checkPage(lege, 'appointments');
    await open(lege, `${base}/appointments/new`);
    await checkPage(lege, 'appointment-new');
    await open(lege, `${base}/`);
    const href = await lege.locator('a[href^="/appointments/"]').filter({ hasText: /Kari/ }).first().getAttribute('href');
    await open(lege, `${base}${href}`);
    await checkPage(lege, 'appointment');
  });

  test('video call pages: self-test, join link, waiting room, host view, invalid link', async () => {
    const guest = await newPage();
    await open(guest, `${base}/selftest`);
    await guest.locator('.verdict[data-verdict]').waitFor({ timeout: 30_000 });
    await checkPage(guest, 'selftest');

    await open(guest, server.demoLink());
    await guest.locator('button.continue:not([disabled])').waitFor({ timeout: 30_000 });
    await checkPage(guest, 'join-selftest');
    await guest.locator('button.continue').click();
    await checkPage(guest, 'join-name');
    await guest.locator('form.knock button[type="submit"]').click();
    await guest.locator('#call-app[data-step="waiting"]').waitFor();
    await checkPage(guest, 'join-waiting');

    await open(lege, `${base}/`);
    const href = await lege.locator('a[href^="/appointments/"]').filter({ hasText: /Kari/ }).first().getAttribute('href');
    await open(lege, `${base}/calls/${href.split('/')[2]}`);
    await lege.locator('.waiting-list li').first().waitFor({ timeout: 30_000 });
    await checkPage(lege, 'call-host');

    await open(guest, `${base}/join/${'0'.repeat(64)}`, 404);
    await checkPage(guest, 'join-invalid');
  });

  test('404 page', async () => {
    const page = await newPage();
    await open(page, `${base}/no-such-page`, 404);
    await page.locator('h1').waitFor();
    await checkPage(page, 'not-found');
  });
});
