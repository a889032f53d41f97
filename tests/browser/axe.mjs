// axe-core (WCAG 2.0/2.1 A and AA rules) on a page as it is now, for the browser tests.

import AxeBuilder from '@axe-core/playwright';
import assert from 'node:assert/strict';
import { saveArtifacts } from './server.mjs';

const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

function describeViolations(violations) {
  return violations
    .map((v) => {
      const nodes = v.nodes
        .map((n) => `      ${n.target.join(' ')}\n        ${n.failureSummary?.replace(/\n/g, '\n        ') ?? ''}`)
        .join('\n');
      return `  [${v.impact}] ${v.id}: ${v.help} (${v.helpUrl})\n${nodes}`;
    })
    .join('\n');
}

/** Runs axe on the page as it is now and fails on serious or critical violations. */
export async function checkPage(page, name) {
  await page.waitForLoadState('load');
  const results = await new AxeBuilder({ page }).withTags(TAGS).analyze();
  const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const minor = results.violations.filter((v) => !bad.includes(v));
  if (minor.length > 0) {
    console.log(`# axe, ${name}: minor or moderate findings\n${describeViolations(minor)}`);
  }
  if (bad.length > 0) {
    await saveArtifacts(page, `axe-${name}`);
    assert.fail(`axe found serious or critical violations on ${name} (${page.url()}):\n${describeViolations(bad)}`);
  }
  // axe really ran on this page: it saw passing rules too.
  assert.ok(results.passes.length > 10, `axe checked ${name}`);
}

