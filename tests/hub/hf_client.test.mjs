// The real Hugging Face JS client against a running lightvault hub.
// Environment: LV_HUB_URL (http://127.0.0.1:PORT), LV_HUB_TOKEN (a token that can read),
// LV_HUB_REPO (owner/name), LV_HUB_FILE (a path in it), LV_HUB_FILE_SHA256, LV_HUB_FILE_SIZE.
// Started by tests/hub/hf_client_test.cpp (gtest), which sets up the server and the data.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { downloadFile, listFiles, modelInfo, whoAmI, fileExists } from "@huggingface/hub";

const hubUrl = process.env.LV_HUB_URL;
const accessToken = process.env.LV_HUB_TOKEN;
const repo = { type: "model", name: process.env.LV_HUB_REPO };
const path = process.env.LV_HUB_FILE;

test("whoAmI", async () => {
  const me = await whoAmI({ hubUrl, accessToken });
  assert.equal(me.type, "user");
  assert.ok(me.name.length > 0);
});

test("modelInfo", async () => {
  const info = await modelInfo({ hubUrl, accessToken, name: repo.name, additionalFields: ["sha", "siblings"] });
  assert.equal(info.name, repo.name);
  assert.match(info.sha, /^[0-9a-f]{40}$/);
  assert.ok(info.siblings.some((s) => s.rfilename === path));
});

test("listFiles (recursive)", async () => {
  const files = [];
  for await (const f of listFiles({ hubUrl, accessToken, repo, recursive: true })) files.push(f);
  const file = files.find((f) => f.path === path);
  assert.ok(file, `listed ${files.map((f) => f.path).join(", ")}`);
  assert.equal(file.type, "file");
  assert.equal(file.size, Number(process.env.LV_HUB_FILE_SIZE));
  assert.equal(file.lfs.oid, process.env.LV_HUB_FILE_SHA256);
});

test("downloadFile", async () => {
  const blob = await downloadFile({ hubUrl, accessToken, repo, path });
  assert.ok(blob, "file not found");
  const bytes = Buffer.from(await blob.arrayBuffer());
  assert.equal(bytes.length, Number(process.env.LV_HUB_FILE_SIZE));
  assert.equal(createHash("sha256").update(bytes).digest("hex"), process.env.LV_HUB_FILE_SHA256);
  // a slice is fetched with a Range request
  const part = Buffer.from(await blob.slice(10, 20).arrayBuffer());
  assert.deepEqual(part, bytes.subarray(10, 20));
});

test("missing file and missing access", async () => {
  assert.equal(await downloadFile({ hubUrl, accessToken, repo, path: "does/not/exist.bin" }), null);
  assert.equal(await fileExists({ hubUrl, accessToken, repo, path: "nope.txt" }), false);
  await assert.rejects(downloadFile({ hubUrl, accessToken: "hf_wrong_token_0000000000", repo, path }), /401|authentication|invalid/i);
});
