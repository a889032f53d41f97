// Home follow-up in the browser (issue 4): a patient logs in to the patient app with a code sent
// by SMS (read from the development outbox), enters a red value, and sees what to do; the
// follow-up nurse finds it at the top of the work list and acknowledges and documents it; a
// clinician outside the care team gets 403 on the patient's follow-up page. axe checks the
// patient app and the staff pages on the way.
//
// The demo data puts three patients in follow-up: Kari Nordmann (red today), Per Hansen
// (yellow) and John Smith (green, followed up by sykepleier only).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { checkPage } from './axe.mjs';
import { lastOutboxCode, launchBrowser, login, message, saveArtifacts, startServer } from './server.mjs';

const DEADLINE_MS = 20_000;

/** The phone number the demo printed for a follow-up patient. */
function demoPhone(server, name) {
  const m = new RegExp(`${name}\\s+phone (\\+?\\d+)`).exec(server.output());
  assert.ok(m, `the demo printed ${name}'s phone number`);
  return m[1];
}

/** The work list's rows, top first: kind and patient name. */
async function worklist(page) {
  return page.locator('ol.worklist > li').evaluateAll((items) =>
    items.map((li) => ({
      kind: li.dataset.kind,
      name: li.querySelector('h2 a')?.textContent.trim(),
      href: li.querySelector('h2 a')?.getAttribute('href'),
      acknowledged: !li.querySelector('form[action$="/acknowledge"]'),
    })),
  );
}

/** Logs a patient in to the patient app with the code sent to their phone; lands on /mine. */
async function patientLogin(page, base, server, name) {
  await page.goto(`${base}/mine`);
  await page.waitForURL((u) => u.pathname.startsWith('/mine'));
  await page.locator('#contact').waitFor();
  await page.fill('#contact', demoPhone(server, name));
  await page.locator('form[action="/mine/login"] button[type="submit"]').click();
  await page.locator('#code').waitFor({ timeout: DEADLINE_MS });
  let code = '';
  const until = Date.now() + DEADLINE_MS;
  while (!/^\d{6}$/.test(code) && Date.now() < until) {
    code = lastOutboxCode(server.dataDir, 'followup_login_code');
    if (!code) await new Promise((r) => setTimeout(r, 200));
  }
  assert.match(code, /^\d{6}$/, 'the login code is in the outbox');
  await page.fill('#code', code);
  await page.locator('form[action="/mine/code"] button[type="submit"]').click();
  await page.waitForURL((u) => u.pathname === '/mine');
  assert.match(await page.locator('h1').innerText(), new RegExp(name));
}

describe('home follow-up in the browser', () => {
  let server;
  let browser;
  let base;
  const contexts = [];
  let nurse;
  let johnPage; // John's follow-up page, as the nurse found it
  let kariPage; // Kari's follow-up page

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

  test('the nurse sees the demo red first, then documents it so it leaves the list', async () => {
    nurse = await newPage();
    try {
      await login(nurse, base, 'sykepleier');
      // The menu leads to the follow-up work list.
      await nurse.locator('nav.main-nav a[href="/followup"]').click();
      await nurse.waitForURL((u) => u.pathname === '/followup');
      const rows = await worklist(nurse);
      assert.ok(rows.length >= 2, `the demo work list has alerts: ${JSON.stringify(rows)}`);
      assert.deepEqual(
        rows.slice(0, 2).map((r) => [r.kind, r.name]),
        [
          ['red', 'Kari Nordmann'],
          ['yellow', 'Per Hansen'],
        ],
        'red before yellow',
      );
      await checkPage(nurse, 'followup-worklist');

      // Kari's page: acknowledge and document, as the nurse would after calling her.
      const kari = `${base}${rows[0].href}`;
      kariPage = kari;
      await nurse.goto(kari);
      await nurse.locator('section[data-kind="red"]').first().waitFor();
      await checkPage(nurse, 'followup-patient');
      await nurse.locator('section[data-kind="red"] form[action$="/acknowledge"] button').first().click();
      await nurse.waitForURL((u) => u.pathname === '/followup');
      await nurse.goto(kari);
      const act = nurse.locator('section[data-kind="red"] form[action$="/act"]').first();
      await act.locator('select').selectOption('called');
      await act.locator('textarea').fill('Ringte Kari; hun følger egenbehandlingsplanen og måler igjen i kveld.');
      await act.locator('button[type="submit"]').click();
      await nurse.waitForURL((u) => u.searchParams.get('done') === 'saved');
      // The summary for the record (HF-10) says what was done.
      await nurse.goto(`${kari}/notes`);
      const note = await nurse.locator('#note-text').innerText();
      assert.match(note, /Ringte pasienten/);
      assert.match(note, /Kari Nordmann/);
      await checkPage(nurse, 'followup-notes');
      await nurse.goto(`${base}/followup`);
      const after = await worklist(nurse);
      assert.ok(
        !after.some((r) => r.kind === 'red'),
        `a documented alert leaves the work list: ${JSON.stringify(after)}`,
      );
    } catch (err) {
      await saveArtifacts(nurse, 'followup-nurse-demo');
      throw err;
    }
  });

  test('a patient logs in with a code, enters a red value, and is told what to do', async () => {
    const patient = await newPage();
    try {
      await patient.goto(`${base}/mine`);
      await patient.locator('#contact').waitFor();
      await checkPage(patient, 'mine-login');
      await patientLogin(patient, base, server, 'John Smith');
      await checkPage(patient, 'mine-home');

      // SpO2 84 % is red for a COPD patient.
      const form = patient.locator('form[action="/mine/readings"]:has(input[name="kind"][value="oxygen_saturation"])');
      await form.locator('input[name="value"]').fill('84');
      await form.locator('button[type="submit"]').click();
      await patient.locator('#result').waitFor({ timeout: DEADLINE_MS });
      assert.equal(
        (await patient.locator('#result').innerText()).trim(),
        message('nb', 'mine-result-red'),
        'the patient is told in words what a red value means and what to do',
      );
      await checkPage(patient, 'mine-home-red');
    } catch (err) {
      await saveArtifacts(patient, 'followup-patient');
      throw err;
    }
  });

  test("the patient's red value tops the nurse's work list and is acknowledged", async () => {
    assert.ok(nurse, 'the nurse is logged in');
    try {
      await nurse.goto(`${base}/followup`);
      const rows = await worklist(nurse);
      assert.equal(rows[0]?.kind, 'red', `the top row is red: ${JSON.stringify(rows)}`);
      assert.equal(rows[0]?.name, 'John Smith');
      assert.equal(rows[0]?.acknowledged, false);
      assert.match(
        await nurse.locator('ol.worklist > li').first().innerText(),
        /84/,
        'the row says which value',
      );
      johnPage = `${base}${rows[0].href}`;
      await nurse.locator('ol.worklist > li').first().locator('form[action$="/acknowledge"] button').click();
      await nurse.waitForURL((u) => u.pathname === '/followup');
      const top = (await worklist(nurse))[0];
      assert.deepEqual([top.kind, top.name, top.acknowledged], ['red', 'John Smith', true]);
      assert.match(
        await nurse.locator('ol.worklist > li').first().innerText(),
        new RegExp(message('nb', 'fu-acknowledged-by')),
        'the row shows who acknowledged it',
      );
      // "Video call" as the action: a room with an invitation to the patient, from his page.
      await nurse.goto(johnPage);
      await nurse.locator('#video-call button[type="submit"]').click();
      await nurse.waitForURL((u) => u.pathname.startsWith('/calls/'), { timeout: DEADLINE_MS });
      assert.match(await nurse.locator('main').innerText(), /John Smith/, 'the room invites John');
    } catch (err) {
      await saveArtifacts(nurse, 'followup-nurse-john');
      throw err;
    }
  });

  test('Kari sees her approved plan with the red step marked, and answers her COPD questionnaire', async () => {
    const kari = await newPage();
    try {
      await patientLogin(kari, base, server, 'Kari Nordmann');
      const now = kari.locator('#my-plan li.plan-step.current');
      assert.equal(await now.count(), 1, 'one step is marked as the one that applies now');
      assert.match(await now.getAttribute('class'), /plan-red/, "today's SpO2 of 86 % makes it the red step");
      assert.match(await now.innerText(), /Ring oppfølgingstjenesten nå/);
      await kari.locator('a[href^="/mine/questionnaires/"]').first().click();
      await kari.waitForURL((u) => u.pathname.startsWith('/mine/questionnaires/'));
      await checkPage(kari, 'mine-questionnaire');
      // Sending without answering: the page says which questions are missing, nothing is stored.
      await kari.locator('form[action^="/mine/questionnaires/"]').evaluate((f) => f.setAttribute('novalidate', ''));
      await kari.locator('form[action^="/mine/questionnaires/"] button[type="submit"]').click();
      await kari.locator('#answer-errors').waitFor({ timeout: DEADLINE_MS });
      await checkPage(kari, 'mine-questionnaire-errors');
      // The first option of every question.
      for (const fieldset of await kari.locator('form[action^="/mine/questionnaires/"] fieldset').all()) {
        await fieldset.locator('input[type="radio"]').first().check();
      }
      await kari.locator('form[action^="/mine/questionnaires/"] button[type="submit"]').click();
      await kari.waitForURL((u) => u.pathname === '/mine');
      assert.match(await kari.locator('[role="status"]').first().innerText(), /Takk/);
    } catch (err) {
      await saveArtifacts(kari, 'followup-kari');
      throw err;
    }
  });

  test("the nurse's pages for the plan, referrals, service use and ending pass axe", async () => {
    assert.ok(nurse && kariPage, "the nurse is logged in and found Kari's page");
    for (const [suffix, name] of [
      ['/plan', 'followup-plan'],
      ['/referrals', 'followup-referrals-patient'],
      ['/service-use', 'followup-service-use'],
      ['/end', 'followup-end'],
    ]) {
      const res = await nurse.goto(`${kariPage}${suffix}`);
      assert.equal(res.status(), 200, `${suffix}`);
      await checkPage(nurse, name);
    }
    const res = await nurse.goto(`${base}/followup/referrals`);
    assert.equal(res.status(), 200);
    await checkPage(nurse, 'followup-referrals');
  });

  test("a clinician outside the care team gets 403 on the patient's follow-up page", async () => {
    assert.ok(johnPage, "John's follow-up page was found");
    const page = await newPage();
    try {
      await login(page, base, 'annenlege');
      const worklistRes = await page.goto(`${base}/followup`);
      assert.equal(worklistRes.status(), 200);
      assert.equal(
        (await worklist(page)).filter((r) => r.name === 'John Smith').length,
        0,
        "John is not on annenlege's work list",
      );
      const denied = await page.goto(johnPage);
      assert.equal(denied.status(), 403);
      assert.equal((await page.locator('h1').innerText()).trim(), message('nb', 'error-forbidden'));
      assert.ok(!(await page.locator('main').innerText()).includes('84'), 'no readings on the 403 page');
    } catch (err) {
      await saveArtifacts(page, 'followup-403');
      throw err;
    }
  });
});
