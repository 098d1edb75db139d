// Reads files that lightvault signed with the independent C2PA reader @trustnxt/c2pa-ts and
// checks what it says: the manifest is found, its actions read, the hard binding and the
// claim signature validate. LV_C2PA_SIGNED lists the signed files (':'-separated);
// LV_C2PA_TAMPERED lists files changed after signing, which must not validate.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import { JPEG, PNG } from '@trustnxt/c2pa-ts/asset';
import { SuperBox } from '@trustnxt/c2pa-ts/jumbf';
import { ManifestStore, ValidationResult } from '@trustnxt/c2pa-ts/manifest';

const list = (name) => (process.env[name] ?? '').split(':').filter((p) => p.length > 0);

async function readAndValidate(path) {
  const buf = new Uint8Array(await fs.readFile(path));
  const asset = JPEG.canRead(buf) ? new JPEG(buf) : PNG.canRead(buf) ? new PNG(buf) : undefined;
  assert.ok(asset, `${path}: neither JPEG nor PNG to c2pa-ts`);
  const jumbf = asset.getManifestJUMBF();
  assert.ok(jumbf, `${path}: c2pa-ts finds no manifest store`);
  const manifests = ManifestStore.read(SuperBox.fromBuffer(jumbf));
  let result;
  try {
    result = await manifests.validate(asset);
  } catch (e) {
    result = ValidationResult.fromError(e);
  }
  return { manifest: manifests.getActiveManifest(), result };
}

const codes = (result) => result.statusEntries.map((e) => e.code);

test('signed files validate', async () => {
  const files = list('LV_C2PA_SIGNED');
  assert.ok(files.length > 0, 'LV_C2PA_SIGNED names no file');
  for (const path of files) {
    const { manifest, result } = await readAndValidate(path);
    const seen = codes(result);
    console.log(`${path}: isValid=${result.isValid} ${seen.join(' ')}`);
    assert.ok(result.isValid, `${path}: not valid: ${JSON.stringify(result.statusEntries)}`);
    for (const code of ['claimSignature.validated', 'assertion.dataHash.match', 'assertion.hashedURI.match']) {
      assert.ok(seen.includes(code), `${path}: c2pa-ts did not report ${code}`);
    }
    const actions = manifest.assertions.getActionAssertions().flatMap((a) => a.actions);
    assert.equal(actions.length, 1, `${path}: one action expected`);
    assert.equal(actions[0].action, 'c2pa.created');
    assert.equal(actions[0].digitalSourceType, 'http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia');
    assert.equal(manifest.claim.claimGeneratorName, 'lightvault');
    assert.match(manifest.signature.signatureData.certificate.subject, /lightvault test/);
  }
});

test('tampered files do not validate', async () => {
  for (const path of list('LV_C2PA_TAMPERED')) {
    const { result } = await readAndValidate(path);
    console.log(`${path}: isValid=${result.isValid} ${codes(result).join(' ')}`);
    assert.equal(result.isValid, false, `${path}: a changed file still validates`);
  }
});
