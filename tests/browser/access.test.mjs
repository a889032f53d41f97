// Access control as a browser sees it: care team only, emergency access with a reason,
// and password-only login for roles that need no second factor.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { launchBrowser, login, message, saveArtifacts, startServer } from './server.mjs';

describe('patient access', () => {
  let server;
  let browser;
  let base;
  const contexts = [];
  let patient; // { id, url, name, nationalId } of lege's first patient

  async function newPage() {
    // Norwegian bokmål, so the texts can be compared with nb.ftl.
    const context = await browser.newContext({ locale: 'nb-NO' });
    contexts.push(context);
    return context.newPage();
  }

  before(async () => {
    server = await startServer();
    base = server.base;
    browser = await launchBrowser();

    const page = await newPage();
    await login(page, base, 'lege');
    const first = page.locator('table.list tbody a[href^="/patients/"]').first();
    await first.waitFor();
    const name = (await first.innerText()).trim();
    await first.click();
    await page.waitForURL((u) => /^\/patients\/[0-9a-f-]{36}$/.test(u.pathname));
    const facts = await page.locator('dl.facts dd').allInnerTexts();
    const nationalId = facts.map((t) => t.trim()).find((t) => /^\d{11}$/.test(t));
    assert.ok(nationalId, 'lege sees the national id of the patient');
    patient = { url: page.url(), id: new URL(page.url()).pathname.split('/')[2], name, nationalId };
  });

  after(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await server?.stop();
  });

  test('a clinician outside the care team gets 403, then emergency access with a reason', async () => {
    const page = await newPage();
    try {
      await login(page, base, 'annenlege');

      // The patient is not on annenlege's work list.
      assert.equal(await page.locator(`a[href="/patients/${patient.id}"]`).count(), 0);

      const denied = await page.goto(patient.url);
      assert.equal(denied.status(), 403);
      assert.equal((await page.locator('h1').innerText()).trim(), message('nb', 'error-forbidden'));
      await page.locator('main [role="alert"]').waitFor({ state: 'visible' });
      assert.equal(await page.locator('dl.facts').count(), 0, 'no patient data on the 403 page');
      assert.ok(!(await page.locator('main').innerText()).includes(patient.nationalId));

      // Find the patient by national id: the emergency-access form is offered.
      await page.goto(`${base}/`);
      await page.fill('#national_id', patient.nationalId);
      await page.locator('form[action="/patients/find"] button[type="submit"]').click();
      const form = page.locator(`form[action="/patients/${patient.id}/emergency-access"]`);
      await form.waitFor();
      assert.equal((await page.locator('h1').innerText()).trim(), message('nb', 'emergency-title'));

      // The browser itself refuses a reason shorter than 10 characters.
      await page.fill('#reason', 'kort');
      assert.equal(await page.locator('#reason').evaluate((el) => el.checkValidity()), false);

      await page.fill('#reason', 'Akutt innleggelse, pasienten kan ikke svare selv.');
      const granted = page.waitForResponse(
        (r) => r.request().method() === 'POST' && r.url().endsWith('/emergency-access'),
      );
      await form.locator('button[type="submit"]').click();
      assert.equal((await granted).status(), 303);
      await page.waitForURL((u) => u.pathname === `/patients/${patient.id}`);
      const banner = page.locator('.warning');
      await banner.waitFor({ state: 'visible' });
      assert.equal((await banner.innerText()).trim(), message('nb', 'patient-emergency-banner'));
      assert.equal((await page.locator('h1').innerText()).trim(), patient.name);

      // The access now lasts: a plain reload shows the record, still with the banner.
      const again = await page.reload();
      assert.equal(again.status(), 200);
      await page.locator('.warning').waitFor({ state: 'visible' });
    } catch (e) {
      await saveArtifacts(page, 'access-emergency');
      throw e;
    }
  });

  test('leder logs in with a password only and lands on the start page', async () => {
    const page = await newPage();
    const visited = [];
    page.on('framenavigated', (f) => {
      if (f === page.mainFrame()) visited.push(new URL(f.url()).pathname);
    });
    await login(page, base, 'leder');
    assert.equal(new URL(page.url()).pathname, '/');
    assert.deepEqual(
      visited.filter((p) => p.startsWith('/login/')),
      [],
      `no second-factor page on the way (${visited.join(' → ')})`,
    );
    await page.locator('h1').waitFor();
    // A service owner does not treat patients: no work list, no patient search.
    assert.equal(await page.locator('#national_id').count(), 0);
  });
});
