// Shared helpers for the browser tests: start one Helsebro demo server per test file,
// launch Debian's Chromium through playwright-core, and log in (password, then TOTP).
//
// Run the tests through scripts/browser-tests.sh: it puts them in a loopback-only network
// namespace, so Chromium's WebRTC can reach nothing but 127.0.0.1.

import { execFileSync, spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const HELSEBRO_BIN = process.env.HELSEBRO_BIN || path.join(REPO_ROOT, 'target', 'debug', 'helsebro');
export const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
export const DEMO_PASSWORD = 'demo-passord-123';
export const ARTIFACTS = path.join(REPO_ROOT, 'tests', 'browser', 'artifacts');

const START_DEADLINE_MS = 60_000;
const STOP_DEADLINE_MS = 10_000;
const READY_LINE = /Helsebro is running at (http:\/\/127\.0\.0\.1:\d+)\//;

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--allow-loopback-in-peer-connection',
  '--use-fake-ui-for-media-stream',
  '--use-fake-device-for-media-stream',
];

// Servers still running, stopped synchronously if the test process exits early.
const running = new Set();
process.on('exit', () => {
  for (const s of running) s.killNow();
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    for (const s of running) s.killNow();
    process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
  });
}

/**
 * Starts `helsebro serve --demo` on a free loopback port with a fresh data folder.
 * Resolves to { base, stop(), output() } once the server prints its address.
 */
export async function startServer(extraEnv = {}) {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'helsebro-browser-'));
  // Inherited HELSEBRO_* settings (a database URL, a config file) must not leak in.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('HELSEBRO_') || k === 'HELSEBRO_LOG'),
  );
  env.HELSEBRO_DEMO_PASSWORD = DEMO_PASSWORD;
  // Media on free loopback ports, so tests can run side by side.
  env.HELSEBRO_MEDIA_UDP_LISTEN = '127.0.0.1:0';
  env.HELSEBRO_MEDIA_TCP_LISTEN = '127.0.0.1:0';
  Object.assign(env, extraEnv);

  let output = '';
  let exited = null;
  const child = spawn(
    HELSEBRO_BIN,
    ['serve', '--listen', '127.0.0.1:0', '--data', dataDir, '--demo'],
    { env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exitPromise = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      resolve(exited);
    });
    child.on('error', (err) => {
      exited = { error: err };
      resolve(exited);
    });
  });

  const server = {
    base: null,
    dataDir,
    output: () => output,
    /** The media server's UDP port, from the line the server prints. */
    mediaUdpPort: () => Number(/Video media \(SFU\) on UDP [0-9.]+:(\d+)/.exec(output)?.[1]),
    /** The demo appointment's patient link, from the line the server prints. */
    demoLink: () => /Patient's video link: (\S+)/.exec(output)?.[1],
    killNow() {
      if (exited === null) child.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
      running.delete(server);
    },
    async stop() {
      if (exited === null) {
        child.kill('SIGTERM');
        const timer = new Promise((resolve) => setTimeout(resolve, STOP_DEADLINE_MS, 'timeout'));
        if ((await Promise.race([exitPromise, timer])) === 'timeout') {
          child.kill('SIGKILL');
          await exitPromise;
        }
      }
      rmSync(dataDir, { recursive: true, force: true });
      running.delete(server);
      forgetSecrets(server.base);
    },
  };
  running.add(server);

  const ready = new Promise((resolve, reject) => {
    let lineBuf = '';
    const deadline = setTimeout(
      () => reject(new Error(`the server did not print its address within ${START_DEADLINE_MS / 1000} s`)),
      START_DEADLINE_MS,
    );
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d) => {
      output += d;
    });
    child.stdout.on('data', (d) => {
      output += d;
      lineBuf += d;
      const m = READY_LINE.exec(lineBuf);
      if (m) {
        clearTimeout(deadline);
        resolve(m[1]);
      }
    });
    exitPromise.then((e) => {
      clearTimeout(deadline);
      reject(new Error(`the server exited before it was ready: ${e.error ? e.error.message : `code ${e.code}, signal ${e.signal}`}`));
    });
  });

  try {
    server.base = await ready;
  } catch (err) {
    await server.stop();
    throw new Error(`${err.message}\nbinary: ${HELSEBRO_BIN}\n--- server output ---\n${output}`);
  }
  return server;
}

/** Launches Chromium headless with the flags the project allows (no network but loopback). */
export function launchBrowser() {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

// ---------------------------------------------------------------------------------------
// TOTP (RFC 6238: HMAC-SHA-1, 6 digits, 30-second steps)

export function base32Decode(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const clean = text.toUpperCase().replace(/[\s=-]/g, '');
  let bits = 0;
  let value = 0;
  const out = [];
  for (const ch of clean) {
    const idx = alphabet.indexOf(ch);
    if (idx < 0) throw new Error(`not a base32 character: ${JSON.stringify(ch)}`);
    value = (value << 5) | idx;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

export function totpCode(secretBase32, step) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', base32Decode(secretBase32)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const bin = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(bin % 1_000_000).padStart(6, '0');
}

export const currentStep = () => Math.floor(Date.now() / 30_000);

// Per server (keyed by its base URL): username → { secret, lastStep }.
const secrets = new Map();

function userState(base, username) {
  if (!secrets.has(base)) secrets.set(base, new Map());
  const users = secrets.get(base);
  if (!users.has(username)) users.set(username, { secret: null, lastStep: -1 });
  return users.get(username);
}

function forgetSecrets(base) {
  secrets.delete(base);
}

/** A time step whose code has not been used yet: polls the clock until the next step. */
async function freshStep(state) {
  const deadline = Date.now() + 35_000;
  let step = currentStep();
  while (step <= state.lastStep) {
    if (Date.now() > deadline) throw new Error('the clock did not reach the next TOTP step');
    const untilNext = (state.lastStep + 1) * 30_000 - Date.now();
    await new Promise((resolve) => setTimeout(resolve, Math.max(10, Math.min(untilNext, 250))));
    step = currentStep();
  }
  return step;
}

// ---------------------------------------------------------------------------------------
// Login

const pathOf = (url) => new URL(url).pathname;

/** Posts the form around `buttonSelector` and returns the response to that POST. */
async function submitForm(page, action, buttonSelector = 'button[type="submit"]') {
  const response = page.waitForResponse(
    (r) => r.request().method() === 'POST' && pathOf(r.url()) === action,
  );
  await page.locator(`form[action="${action}"] ${buttonSelector}`).click();
  return response;
}

/**
 * The password step only: returns the path the browser lands on
 * ('/', '/login/totp' or '/login/enrol').
 */
export async function submitPassword(page, base, username, password = DEMO_PASSWORD) {
  await page.goto(`${base}/login`);
  await page.fill('#username', username);
  await page.fill('#password', password);
  const res = await submitForm(page, '/login');
  if (res.status() >= 400) {
    await page.waitForLoadState();
    const why = await page.locator('main').innerText().catch(() => '');
    throw new Error(`login as ${username} failed with HTTP ${res.status()}: ${why}`);
  }
  await page.waitForURL((u) => u.pathname !== '/login');
  return pathOf(page.url());
}

/** The TOTP step, on /login/enrol or /login/totp. Lands on '/'. */
export async function completeSecondFactor(page, base, username) {
  const state = userState(base, username);
  const where = pathOf(page.url());
  if (where === '/login/enrol') {
    state.secret = (await page.locator('#totp-secret').textContent()).trim();
  } else if (where === '/login/totp') {
    if (!state.secret) throw new Error(`no TOTP secret remembered for ${username}`);
  } else {
    throw new Error(`expected a TOTP page, got ${page.url()}`);
  }
  const step = await freshStep(state);
  await page.fill('#code', totpCode(state.secret, step));
  const res = await submitForm(page, where);
  if (res.status() >= 400) {
    await page.waitForLoadState();
    const why = await page.locator('main').innerText().catch(() => '');
    throw new Error(`TOTP step for ${username} failed with HTTP ${res.status()}: ${why}`);
  }
  state.lastStep = step;
  await page.waitForURL((u) => u.pathname === '/');
}

/** Logs `username` in with the demo password and, where the role needs it, a TOTP code. */
export async function login(page, base, username) {
  const where = await submitPassword(page, base, username);
  if (where === '/login/enrol' || where === '/login/totp') {
    await completeSecondFactor(page, base, username);
  } else if (where !== '/') {
    throw new Error(`login as ${username} landed on unexpected ${page.url()}`);
  }
}

// ---------------------------------------------------------------------------------------
// Misc

/**
 * A message from the Fluent files of a language (`locales/<lang>.ftl` and the feature files in
 * `<lang>.ftl` in each folder under locales), for single-line `key = value` entries.
 */
export function message(lang, key) {
  const locales = path.join(REPO_ROOT, 'crates', 'i18n', 'locales');
  const files = [path.join(locales, `${lang}.ftl`)];
  for (const entry of readdirSync(locales, { withFileTypes: true })) {
    if (entry.isDirectory()) files.push(path.join(locales, entry.name, `${lang}.ftl`));
  }
  for (const file of files) {
    let ftl;
    try {
      ftl = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    const line = ftl.split('\n').find((l) => l.startsWith(`${key} =`));
    if (line) return line.slice(line.indexOf('=') + 1).trim();
  }
  throw new Error(`${key} is in no ${lang}.ftl`);
}

/**
 * The six-digit code in the newest development-outbox message of `kind` (the SMS the person
 * would get), or '' when there is none yet.
 */
export function lastOutboxCode(dataDir, kind) {
  const py = `
import sqlite3, sys, re
db = sqlite3.connect(sys.argv[1])
row = db.execute("SELECT body FROM outbox WHERE kind = ? ORDER BY created_at DESC LIMIT 1", (sys.argv[2],)).fetchone()
m = re.search(r'\\b(\\d{6})\\b', row[0]) if row else None
print(m.group(1) if m else '')
`;
  return execFileSync('python3', ['-c', py, path.join(dataDir, 'helsebro.sqlite3'), kind], { encoding: 'utf8' }).trim();
}

/** Saves a screenshot and the HTML of `page` under tests/browser/artifacts (git-ignored). */
export async function saveArtifacts(page, name) {
  try {
    mkdirSync(ARTIFACTS, { recursive: true });
    const safe = name.replace(/[^a-z0-9_-]+/gi, '_');
    await page.screenshot({ path: path.join(ARTIFACTS, `${safe}.png`), fullPage: true });
    writeFileSync(path.join(ARTIFACTS, `${safe}.html`), await page.content());
  } catch {
    // The page may be gone; the assertion message is what matters.
  }
}
