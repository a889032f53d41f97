// The page shell: languages, Content-Security-Policy, no third-party requests, support footer.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { launchBrowser, login, message, saveArtifacts, startServer } from './server.mjs';

const LANGS = ['nb', 'nn', 'en'];

/** What is wrong with a Content-Security-Policy header value (empty: nothing). */
function cspProblems(csp) {
  if (!csp) return ['no Content-Security-Policy header'];
  const problems = [];
  const directives = new Map(
    csp
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .filter((parts) => parts[0])
      .map(([name, ...values]) => [name.toLowerCase(), values]),
  );
  const def = directives.get('default-src');
  if (!def || def.length !== 1 || !["'none'", "'self'"].includes(def[0])) {
    problems.push(`default-src is ${JSON.stringify(def)}, not 'none' or 'self'`);
  }
  for (const [name, values] of directives) {
    for (const v of values) {
      if (/^https?:/i.test(v) || v.includes('://')) problems.push(`${name} allows the origin ${v}`);
      if (v.includes('*')) problems.push(`${name} allows a wildcard ${v}`);
    }
  }
  return problems;
}

describe('page shell', () => {
  let server;
  let browser;
  const seen = { requests: [], responses: [], documents: 0 };

  /** A context whose every request and response is recorded for the checks at the end. */
  async function newContext(options = {}) {
    const context = await browser.newContext(options);
    context.on('request', (r) => seen.requests.push(r.url()));
    context.on('response', (r) => {
      const isDocument = r.request().resourceType() === 'document';
      if (isDocument) seen.documents += 1;
      seen.responses.push({
        url: r.url(),
        status: r.status(),
        document: isDocument,
        csp: r.headers()['content-security-policy'],
      });
    });
    return context;
  }

  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test('the login page renders in nb, nn and en', async () => {
    const context = await newContext({ locale: 'nb-NO' });
    const page = await context.newPage();
    const seenPages = {};
    try {
      for (const lang of LANGS) {
        const res = await page.goto(`${server.base}/login?lang=${lang}`);
        assert.equal(res.status(), 200);
        assert.equal(await page.locator('html').getAttribute('lang'), lang, `<html lang> for ?lang=${lang}`);
        const h1 = (await page.locator('h1').innerText()).trim();
        assert.equal(h1, message(lang, 'login-title'), `<h1> for ${lang} is the ${lang}.ftl login-title`);
        seenPages[lang] = { h1, main: (await page.locator('main').innerText()).trim() };
        for (const code of LANGS) {
          const link = page.locator(`nav.langs a[hreflang="${code}"]`);
          assert.equal(await link.count(), 1, `nav.langs has one link to ${code} (on the ${lang} page)`);
          assert.match(await link.getAttribute('href'), new RegExp(`[?&]lang=${code}(&|$)`));
          assert.equal(await link.getAttribute('lang'), code);
        }
        assert.equal(
          await page.locator('nav.langs a[aria-current="true"]').getAttribute('hreflang'),
          lang,
          'the current language is marked aria-current',
        );
      }
      // English differs from both Norwegian written forms in the heading. Bokmål and nynorsk
      // may share a heading ("Logg inn" is right in both), so their whole main text must differ.
      assert.notEqual(seenPages.en.h1, seenPages.nb.h1, 'en and nb <h1> differ');
      assert.notEqual(seenPages.en.h1, seenPages.nn.h1, 'en and nn <h1> differ');
      for (const [a, b] of [['nb', 'nn'], ['nb', 'en'], ['nn', 'en']]) {
        assert.notEqual(seenPages[a].main, seenPages[b].main, `the ${a} and ${b} login pages differ`);
      }
    } catch (e) {
      await saveArtifacts(page, 'shell-languages');
      throw e;
    } finally {
      await context.close();
    }
  });

  test('Accept-Language alone chooses English', async () => {
    const context = await newContext({ locale: 'en-GB' });
    const page = await context.newPage();
    try {
      const res = await page.goto(`${server.base}/login`);
      assert.equal(res.status(), 200);
      assert.match(await res.request().headerValue('accept-language'), /^en-GB/);
      assert.equal(await page.locator('html').getAttribute('lang'), 'en');
      assert.equal((await page.locator('h1').innerText()).trim(), message('en', 'login-title'));
    } finally {
      await context.close();
    }
  });

  test('the support footer shows a phone link, logged out and logged in', async () => {
    const context = await newContext({ locale: 'nb-NO' });
    const page = await context.newPage();
    try {
      for (const where of ['/login', '/']) {
        if (where === '/') await login(page, server.base, 'leder');
        else await page.goto(`${server.base}${where}`);
        const tel = page.locator('footer.support a[href^="tel:"]');
        await tel.first().waitFor({ state: 'visible' });
        const href = await tel.first().getAttribute('href');
        assert.match(href, /^tel:\+?[0-9][0-9 ]{4,}$/, `footer phone link on ${where}: ${href}`);
        assert.notEqual((await tel.first().innerText()).trim(), '', 'the phone link has text');
      }
    } catch (e) {
      await saveArtifacts(page, 'shell-footer');
      throw e;
    } finally {
      await context.close();
    }
  });

  test('every response carries a strict CSP and every request stays on the server', () => {
    assert.ok(seen.documents >= 5, `documents were loaded (${seen.documents})`);
    const badCsp = seen.responses
      .map((r) => ({ ...r, problems: cspProblems(r.csp) }))
      .filter((r) => r.problems.length > 0);
    assert.deepEqual(
      badCsp.map((r) => `${r.status} ${r.url}: ${r.problems.join('; ')}`),
      [],
      'responses without a strict CSP',
    );
    const foreign = seen.requests.filter((u) => !u.startsWith(`${server.base}/`));
    assert.deepEqual(foreign, [], 'requests to anything but the server');
  });
});
