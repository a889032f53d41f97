// Video calls through Helsebro's own SFU, in Chromium with a fake camera and microphone:
// booking, the guest's self-test, knock and admission, two- and three-party media, lock,
// participant limit, removal, coming back within the grace period, TCP-only networks, and
// nothing left behind on disk.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { lastOutboxCode, launchBrowser, login, saveArtifacts, startServer } from './server.mjs';

const DEADLINE_MS = 30_000;

/** Polls `fn` until `ok(value)` holds, or fails with the last value after the deadline. */
async function waitFor(what, fn, ok, deadline = DEADLINE_MS) {
  const end = Date.now() + deadline;
  let last;
  for (;;) {
    last = await fn();
    if (ok(last)) return last;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Records every RTCPeerConnection a page makes, so a test can read its statistics. */
async function newCallPage(browser, contexts) {
  const context = await browser.newContext({ locale: 'nb-NO' });
  contexts.push(context);
  await context.addInitScript(() => {
    const Original = window.RTCPeerConnection;
    window.__pcs = [];
    window.RTCPeerConnection = class extends Original {
      constructor(...args) {
        super(...args);
        window.__pcs.push(this);
      }
    };
  });
  const page = await context.newPage();
  page.on('dialog', (d) => d.accept());
  return page;
}

/** What a page receives: decoded video per remote stream, audio packets, and the transport. */
function mediaStats(page) {
  return page.evaluate(async () => {
    const out = { videoStreams: 0, framesDecoded: 0, audioPackets: 0, open: 0, protocols: [] };
    for (const pc of window.__pcs ?? []) {
      if (pc.connectionState === 'closed') continue;
      out.open += 1;
      const report = await pc.getStats();
      const candidates = new Map();
      report.forEach((s) => {
        if (s.type === 'local-candidate') candidates.set(s.id, s.protocol);
      });
      report.forEach((s) => {
        if (s.type === 'inbound-rtp' && s.kind === 'video') {
          out.framesDecoded += s.framesDecoded ?? 0;
          if ((s.framesDecoded ?? 0) > 0) out.videoStreams += 1;
        }
        if (s.type === 'inbound-rtp' && s.kind === 'audio') out.audioPackets += s.packetsReceived ?? 0;
        if (s.type === 'candidate-pair' && s.state === 'succeeded' && s.nominated) {
          out.protocols.push(candidates.get(s.localCandidateId));
        }
      });
    }
    return out;
  });
}

/** Waits until `page` decodes video from `streams` others and audio, and both keep growing. */
async function assertDecoding(page, streams, label) {
  try {
    const first = await waitFor(
      `${label} to decode ${streams} video stream(s) and audio`,
      () => mediaStats(page),
      (s) => s.videoStreams >= streams && s.audioPackets > 0,
    );
    await waitFor(
      `${label}'s decoded frames and audio packets to keep growing`,
      () => mediaStats(page),
      (s) => s.framesDecoded > first.framesDecoded && s.audioPackets > first.audioPackets,
    );
    return first;
  } catch (err) {
    await saveArtifacts(page, `call-${label}`);
    throw err;
  }
}

const oslo = (ms, opts) => new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Oslo', ...opts }).format(ms);

/** Books an appointment as the logged-in clinician; returns { id, links: { role: url } }. */
async function book(page, base, invitees) {
  await page.goto(`${base}/appointments/new`);
  const at = Date.now() + 10 * 60_000;
  await page.fill('#date', oslo(at, { year: 'numeric', month: '2-digit', day: '2-digit' }));
  await page.fill('#time', oslo(at, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }));
  const patient = page.locator('#patient_id option').nth(1);
  await page.selectOption('#patient_id', await patient.getAttribute('value'));
  for (const [n, inv] of invitees.entries()) {
    await page.selectOption(`#inv${n}_role`, inv.role);
    await page.fill(`#inv${n}_name`, inv.name);
    if (inv.phone) await page.fill(`#inv${n}_phone`, inv.phone);
  }
  await page.locator('form[action="/appointments"] button[type="submit"]').click();
  // The new links are shown once, on the page the booking answers with (never in a URL).
  await page.locator('input[id^="link-"]').first().waitFor({ timeout: DEADLINE_MS });
  const room = await page.locator('a[href^="/calls/"]').getAttribute('href');
  const id = room.split('/')[2];
  const links = {};
  const inputs = page.locator('input[id^="link-"]');
  for (let i = 0; i < (await inputs.count()); i += 1) {
    const url = await inputs.nth(i).inputValue();
    links[invitees[i].role] = url;
  }
  assert.equal(Object.keys(links).length, invitees.length, 'one link per invitee, shown once');
  return { id, links };
}

/** A guest opens the link, passes the self-test, gives a name and knocks. */
async function knock(page, link, name, expectVerdict = 'verdict-ok', verifyWith = null) {
  await page.goto(link);
  const verdict = await waitFor(
    'the self-test verdict',
    () => page.locator('.verdict').getAttribute('data-verdict'),
    (v) => v !== null,
  );
  assert.equal(verdict, expectVerdict, 'the self-test verdict');
  await page.locator('button.continue').click();
  if (verifyWith) {
    await page.locator('button.request-code').click();
    await page.locator('form.code-entry:not([hidden])').waitFor({ timeout: DEADLINE_MS });
    const code = await waitFor('the one-time code in the outbox', () => lastOutboxCode(verifyWith, 'one-time-code'), (c) => /^\d{6}$/.test(c));
    await page.fill('input.code', code);
    await page.locator('form.code-entry button[type="submit"]').click();
    await page.locator('.verified:not([hidden])').waitFor({ timeout: DEADLINE_MS });
  }
  await page.fill('input.name', name);
  await page.locator('form.knock button[type="submit"]').click();
}

async function waitingNames(host) {
  return host.locator('.waiting-list li .who').allInnerTexts();
}

async function admit(host, name) {
  const row = host.locator('.waiting-list li', { hasText: name });
  await row.waitFor({ timeout: DEADLINE_MS });
  await row.locator('button.admit').click();
}

describe('a video consultation through the SFU', () => {
  let server;
  let browser;
  const contexts = [];
  let host;
  let patient;
  let interpreter;
  let booking;

  before(async () => {
    // A limit of three: clinician, patient and interpreter fill the room.
    server = await startServer({ HELSEBRO_CALL_LIMIT_CONSULTATION: '3' });
    browser = await launchBrowser();
    host = await newCallPage(browser, contexts);
    await login(host, server.base, 'lege');
    booking = await book(host, server.base, [
      { role: 'patient', name: 'Kari Nordmann', phone: '912 34 567' },
      { role: 'interpreter', name: 'Ali Tolk' },
      { role: 'relative', name: 'Per Nordmann' },
    ]);
    await host.goto(`${server.base}/calls/${booking.id}`);
    await host.locator('#call-app[data-step="call"]').waitFor({ timeout: DEADLINE_MS });
  });

  after(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await server?.stop();
  });

  test('the patient passes the self-test, proves identity by SMS code, knocks, decodes nothing while waiting, and is admitted', async () => {
    patient = await newCallPage(browser, contexts);
    await knock(patient, booking.links.patient, 'Kari Nordmann', 'verdict-ok', server.dataDir);
    await patient.locator('#call-app[data-step="waiting"]').waitFor({ timeout: DEADLINE_MS });
    const names = await waitFor('the host to see the knock', () => waitingNames(host), (n) => n.length === 1);
    assert.match(names[0], /Kari Nordmann/);
    assert.match(names[0], /bekreftet med kode/, 'the host sees that the identity was verified');
    assert.doesNotMatch(names[0], /ikke bekreftet/);
    const waiting = await mediaStats(patient);
    assert.equal(waiting.open, 0, 'a waiting guest has no media connection');
    assert.equal(waiting.framesDecoded + waiting.audioPackets, 0, 'a waiting guest decodes nothing');

    await admit(host, 'Kari Nordmann');
    await patient.locator('#call-app[data-step="call"]').waitFor({ timeout: DEADLINE_MS });
    await assertDecoding(patient, 1, 'patient');
    await assertDecoding(host, 1, 'host');
  });

  test('three parties: the interpreter is shown as such and everyone decodes everyone', async () => {
    interpreter = await newCallPage(browser, contexts);
    await knock(interpreter, booking.links.interpreter, 'Ali Tolk');
    await admit(host, 'Ali Tolk');
    await assertDecoding(interpreter, 2, 'interpreter');
    await assertDecoding(patient, 2, 'patient');
    await assertDecoding(host, 2, 'host');
    const listed = await host.locator('.participants li').allInnerTexts();
    assert.ok(listed.some((t) => /Ali Tolk \(tolk\)/i.test(t)), `interpreter role shown: ${listed}`);
  });

  test('a locked room keeps a valid link out, and the participant limit holds', async () => {
    await host.locator('button.lock').click();
    await waitFor('the lock', () => host.locator('button.lock').getAttribute('data-locked'), (v) => v === 'true');
    const relative = await newCallPage(browser, contexts);
    await knock(relative, booking.links.relative, 'Per Nordmann');
    await relative.locator('.call-error:not([hidden])').waitFor({ timeout: DEADLINE_MS });
    assert.equal(await relative.locator('#call-app').getAttribute('data-step'), 'name');
    assert.deepEqual(await waitingNames(host), [], 'nobody is waiting');

    await host.locator('button.lock').click();
    await waitFor('the unlock', () => host.locator('button.lock').getAttribute('data-locked'), (v) => v === 'false');
    await relative.locator('form.knock button[type="submit"]').click();
    await admit(host, 'Per Nordmann');
    const error = host.locator('.call-error:not([hidden])');
    await error.waitFor({ timeout: DEADLINE_MS });
    assert.equal(await relative.locator('#call-app').getAttribute('data-step'), 'waiting', 'still waiting: the room is full');
    const stats = await mediaStats(relative);
    assert.equal(stats.open, 0, 'the guest kept out gets no media');
    await relative.context().close();
  });

  test('a removed participant cannot come back with the same link', async () => {
    const row = host.locator('.participants li', { hasText: 'Ali Tolk' });
    await row.locator('button.remove').click();
    await interpreter.locator('#call-app[data-finished="removed"]').waitFor({ timeout: DEADLINE_MS });
    const again = await interpreter.goto(booking.links.interpreter);
    assert.equal(again.status(), 404, 'the spent link gets the plain invalid-link page');
    assert.equal(await interpreter.locator('#call-app').count(), 0);
  });

  test('a dropped connection that returns within the grace period gets media back without a knock', async () => {
    await patient.reload();
    await patient.locator('#call-app[data-step="call"]').waitFor({ timeout: DEADLINE_MS });
    await assertDecoding(patient, 1, 'patient-after-reconnect');
    assert.deepEqual(await waitingNames(host), [], 'the patient did not knock again');
    await assertDecoding(host, 1, 'host-after-reconnect');
  });

  test('the host ends the call; nothing said or shown is stored', async () => {
    // Each browser reports its connection's statistics every 5 s, from its second sample on,
    // and only then replaces the page's initial quality "unknown". Wait until both have, so
    // that the call has aggregates to keep: media now flows fast enough for the steps above
    // to take under 10 s.
    for (const page of [host, patient]) {
      await page
        .locator('.quality:not([data-quality="unknown"])')
        .waitFor({ state: 'attached', timeout: DEADLINE_MS });
    }
    await host.locator('button.end').click();
    await patient.locator('#call-app[data-finished="ended"]').waitFor({ timeout: DEADLINE_MS });
    // The patient rates sound and picture.
    await patient.locator('form.rating input[name="sound"][value="4"]').check();
    await patient.locator('form.rating input[name="picture"][value="5"]').check();
    await patient.locator('form.rating button[type="submit"]').click();
    await patient.locator('.rating-thanks:not([hidden])').waitFor({ timeout: DEADLINE_MS });

    // Only the database and its journal files are in the data folder.
    const files = readdirSync(server.dataDir);
    for (const f of files) assert.match(f, /^helsebro\.sqlite3(-wal|-shm|-journal)?$/, `unexpected file ${f} in the data folder`);
    // The database holds no blobs and no session descriptions or media; the audit log holds
    // the call's events.
    const report = JSON.parse(
      execFileSync('python3', ['-c', PY_SCAN, path.join(server.dataDir, 'helsebro.sqlite3')], { encoding: 'utf8' }),
    );
    assert.deepEqual(report.blobs, [], 'no binary values in any table');
    assert.deepEqual(report.media_text, [], 'no SDP or media text in any table');
    assert.ok(report.quality && report.quality[0] > 0, `call statistics kept as aggregates: ${report.quality}`);
    assert.deepEqual(report.quality.slice(1), [1, 4, 5], 'one rating: sound 4, picture 5');
    for (const action of ['call.identity_confirmed', 'call.knocked', 'call.admitted', 'call.joined', 'call.locked', 'call.removed', 'call.ended']) {
      assert.ok(report.actions.includes(action), `audit log has ${action}: ${report.actions}`);
    }
  });
});

// Scans every text and blob value of every table of a SQLite database.
const PY_SCAN = `
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
needles = ['v=0\\r\\n', 'a=fingerprint', 'm=video', 'm=audio', 'a=candidate', 'OpusHead', 'VP8']
blobs, media_text = [], []
# Migration checksums are the only binary values the schema has.
for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name != '_sqlx_migrations'"):
    cols = [r[1] for r in db.execute(f'PRAGMA table_info("{table}")')]
    for row in db.execute(f'SELECT * FROM "{table}"'):
        for col, value in zip(cols, row):
            if isinstance(value, bytes):
                blobs.append(f'{table}.{col}')
            elif isinstance(value, str) and any(n in value for n in needles):
                media_text.append(f'{table}.{col}')
actions = [r[0] for r in db.execute('SELECT action FROM audit_log')]
quality = db.execute('SELECT reports, ratings, sound_sum, picture_sum FROM call_quality').fetchone()
print(json.dumps({'blobs': sorted(set(blobs)), 'media_text': sorted(set(media_text)), 'actions': sorted(set(actions)), 'quality': quality}))
`;

describe('a call when the network blocks UDP', () => {
  let server;
  let browser;
  const contexts = [];
  let port;

  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
    port = server.mediaUdpPort();
    assert.ok(port > 0, 'the server prints its media port');
    // Inside the test's own network namespace: drop UDP to the media server.
    execFileSync('nft', ['add', 'table', 'inet', 'hbtest']);
    execFileSync('nft', ['add', 'chain', 'inet', 'hbtest', 'out', '{ type filter hook output priority 0; }']);
    execFileSync('nft', ['add', 'rule', 'inet', 'hbtest', 'out', 'udp', 'dport', String(port), 'drop']);
  });

  after(async () => {
    try {
      execFileSync('nft', ['delete', 'table', 'inet', 'hbtest']);
    } catch {
      // Already gone.
    }
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await server?.stop();
  });

  test('the self-test says so, and the call connects over ICE-TCP', async () => {
    const host = await newCallPage(browser, contexts);
    await login(host, server.base, 'lege');
    await host.goto(`${server.base}/`);
    const appointment = host.locator('a[href^="/appointments/"]').filter({ hasText: /Kari/ }).first();
    const href = await appointment.getAttribute('href');
    await host.goto(`${server.base}/calls/${href.split('/')[2]}`);
    await host.locator('#call-app[data-step="call"]').waitFor({ timeout: DEADLINE_MS });

    const patient = await newCallPage(browser, contexts);
    await knock(patient, server.demoLink(), 'Kari Nordmann', 'verdict-tcp-only');
    assert.equal(await patient.locator('[data-check="udp"]').getAttribute('data-state'), 'fail');
    assert.equal(await patient.locator('[data-check="tcp"]').getAttribute('data-state'), 'ok');
    await admit(host, 'Kari Nordmann');
    const stats = await assertDecoding(patient, 1, 'patient-tcp');
    assert.deepEqual([...new Set(stats.protocols)], ['tcp'], 'media goes over TCP');
    await assertDecoding(host, 1, 'host-tcp');
  });
});
