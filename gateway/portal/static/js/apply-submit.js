// Submitting on the device, as gateway/client/applicant.py submit() does (docs/portal.md,
// "Apply"): the applicant picks vault documents (listed with the metadata-only read, names
// decrypted here), the route is chosen from the address's ARS, the destination key validated
// (apply-destination.js), each chosen document downloaded and decrypted from the vault copy
// only then, and encrypted as a FIT-Connect JWE to the destination key
// with the PDF summary, the form data and the metadata (sha512 over the plaintexts), announced
// with the ozg manifest, uploaded, submitted; the signed receipt is checked and offered.

import { api } from "./session.js";
import { openBytes } from "./envelope.js";
import { utf8 } from "./b64url.js";
import { MAX_IN_MEMORY, encrypt } from "./jwe.js";
import { buildMetadata, sha512Hex } from "./apply-metadata.js";
import { fetchAllMetadata, openMetadataItem } from "./vault-metadata.js";
import { summaryPdf } from "./apply-summary.js";
import { parseTrust, validateDestinationKey, verifyDestinationSignature } from "./apply-destination.js";

const FIT = "/fit-connect/v1";
const PDF = "application/pdf";
const JSON_MIME = "application/json";
export const METADATA_VERSIONS = { "1.0.0": { version: "1.0.0", schemaUri: "https://schema.fitko.de/fit-connect/metadata/1.0.0/metadata.schema.json", dollarSchema: "none" } };

class StepFailed extends Error {
  constructor(step, status) {
    super(`${step}: HTTP ${status}`);
    this.step = step;
  }
}

async function json(step, response) {
  if (!response.ok) throw new StepFailed(step, response.status);
  return response.json();
}

const jsonBody = (method, body) => ({ method, headers: { "Content-Type": JSON_MIME }, body: JSON.stringify(body) });
const text = (value, lang) => (value && typeof value === "object" ? value[lang] || value.de || Object.values(value)[0] : String(value));

/** JSON with sorted keys at every level (the bytes the data hash is over). */
export function sortedJson(value) {
  const sort = (v) => (Array.isArray(v) ? v.map(sort) : v && typeof v === "object"
    ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sort(v[k])])) : v);
  return JSON.stringify(sort(value));
}

/**
 * The applicant's vault documents to choose from, {id, filename, mediaType, size}: the
 * metadata-only read (docs/envelope.md §13), one request per page, no content downloaded.
 */
export async function vaultDocuments(identity) {
  const listed = [];
  for (const [id, item] of await fetchAllMetadata(api)) {
    try {
      const metadata = await openMetadataItem(item, identity);
      listed.push({ id, filename: metadata.filename, mediaType: metadata.media_type, size: metadata.size });
    } catch (error) {
      console.warn("vault document:", error.message); // not this key's: not offered
    }
  }
  return listed;
}

/** A chosen document, downloaded and opened now: {filename, mediaType, plaintext}. */
async function opened(doc, identity) {
  const response = await api(`/v1/vault/documents/${doc.id}/content`);
  if (!response.ok) throw new StepFailed("document", response.status);
  const { metadata, plaintext } = await openBytes(new Uint8Array(await response.arrayBuffer()), identity);
  return { filename: metadata.filename, mediaType: metadata.media_type, plaintext };
}

/** The route for the address's ARS (chosen here; the address stays sealed). */
export async function route(flow, ars) {
  const leika = flow.leika.split(":").at(-1);
  const found = await json("route", await api(`/v1/routes?leikaKey=${encodeURIComponent(leika)}&ars=${encodeURIComponent(ars || "")}`));
  if (!found.routes?.length) throw new StepFailed("route", 404);
  const chosen = found.routes[0];
  if (chosen.destinationSignature) {
    const { keys } = await json("routing keys", await api("/v1/routes/keys"));
    await verifyDestinationSignature(chosen.destinationSignature, keys, {
      destinationId: chosen.destinationId, leika, ars, submissionHost: location.host, issuer: location.origin,
    });
  }
  return chosen;
}

/** The destination and its validated encryption key. */
export async function destination(destinationId, authority) {
  const info = await json("destination", await api(`${FIT}/destinations/${destinationId}`));
  const jwk = await json("destination key", await api(`${FIT}/destinations/${destinationId}/keys/${info.encryptionKid}`));
  const trust = parseTrust(await json("trust", await fetch("/apply/trust.json")));
  await validateDestinationKey(jwk, { authority, expectedKid: info.encryptionKid, trust });
  return { info, jwk };
}

/**
 * Encrypt and send. `documents`: [{document, type}] with document from vaultDocuments(),
 * downloaded and opened with `identity` here (only these). Returns {submissionId,
 * fitCaseId, parts, tags, receipt}.
 */
export async function submit({ caseId, flow, form, documents, identity, paymentId, lang, destinationId, authority }) {
  const { info, jwk } = await destination(destinationId, authority);
  const version = METADATA_VERSIONS[(info.metadataVersions || ["1.0.0"]).find((v) => v in METADATA_VERSIONS)];
  if (!version) throw new StepFailed("metadata version", 422);
  // the listed size is the plaintext's (§6): a document too large is not even downloaded
  if (documents.some(({ document }) => document.size > MAX_IN_MEMORY)) throw new StepFailed("attachment too large", 413);
  const chosen = [];
  for (const { document, type } of documents) chosen.push({ type, ...(await opened(document, identity)) });
  const names = chosen.map(({ type, filename }) => [type, filename]);
  const plain = [
    { id: crypto.randomUUID(), type: "summary", bytes: await summaryPdf(flow, form, lang, names), mime: PDF, name: "summary.pdf" },
    ...chosen.map(({ type, filename, mediaType, plaintext }) => ({ id: crypto.randomUUID(), type, bytes: plaintext, mime: mediaType, name: filename })),
  ];
  // each attachment is one JWE in memory (docs/portal-crypto.md): refuse before announcing
  if (plain.some((p) => p.bytes.length > MAX_IN_MEMORY)) throw new StepFailed("attachment too large", 413);
  const data = utf8(sortedJson(form));
  const payment = paymentId ? await json("payment information", await api(`/v1/payments/${paymentId}/fit-connect`)) : null;
  const attachments = [];
  for (const p of plain) {
    attachments.push({ attachmentId: p.id, sha512: await sha512Hex(p.bytes), mimeType: p.mime,
      purpose: p.type === "summary" ? "report" : "attachment", filename: p.name, description: p.type });
  }
  const metadata = buildMetadata(version, {
    dataHash: await sha512Hex(data), dataSchemaUri: String(flow.data_schema_uri || flow.id), dataMime: JSON_MIME,
    attachments, publicService: { identifier: flow.leika, name: text(flow.title, "de") },
    paymentInformation: payment, additionalReferenceInfo: { senderReference: caseId },
  });
  const metadataBytes = utf8(JSON.stringify(metadata));
  const manifest = {
    format: "ozg-manifest/1", caseId, flow: flow.id, authority, paymentId: paymentId || null,
    parts: [
      { part: "data", documentType: "form", size: data.length },
      { part: "metadata", documentType: "fit-connect-metadata", size: metadataBytes.length },
      ...plain.map((p) => ({ attachmentId: p.id, documentType: p.type, size: p.bytes.length })),
    ],
  };
  const created = await json("announce", await api(`${FIT}/submissions`, jsonBody("POST", {
    destinationId, announcedAttachments: plain.map((p) => p.id),
    publicService: { name: text(flow.title, lang), identifier: flow.leika }, ozgManifest: manifest,
  })));
  const sid = created.submissionId;
  const digests = [];
  const tags = { attachments: {} };
  for (const p of plain) {
    const sealed = await encrypt(p.bytes, jwk, p.mime);
    const body = utf8(sealed.compact);
    digests.push({ part: "attachment", attachment_id: p.id, sha512: await sha512Hex(body), tag: sealed.tag });
    tags.attachments[p.id] = sealed.tag;
    const put = await api(`${FIT}/submissions/${sid}/attachments/${p.id}`, { method: "PUT", headers: { "Content-Type": "application/jose" }, body });
    if (!put.ok) throw new StepFailed("upload", put.status);
  }
  const encryptedMetadata = await encrypt(metadataBytes, jwk, JSON_MIME);
  const encryptedData = await encrypt(data, jwk, JSON_MIME);
  const submitted = await json("submit", await api(`${FIT}/submissions/${sid}`, jsonBody("PUT", {
    encryptedMetadata: encryptedMetadata.compact, encryptedData: encryptedData.compact,
  })));
  tags.metadata = encryptedMetadata.tag;
  tags.data = encryptedData.tag;
  digests.sort((a, b) => (a.attachment_id < b.attachment_id ? -1 : a.attachment_id > b.attachment_id ? 1 : 0));
  const parts = [
    { part: "metadata", sha512: await sha512Hex(utf8(encryptedMetadata.compact)), tag: encryptedMetadata.tag },
    { part: "data", sha512: await sha512Hex(utf8(encryptedData.compact)), tag: encryptedData.tag },
    ...digests,
  ];
  return { submissionId: sid, fitCaseId: created.caseId, parts, tags, receipt: submitted.ozgReceipt || null };
}

/** The signed receipt of the case; throws unless it attests exactly the parts sent. */
export async function receipt(caseId, parts) {
  const got = await json("receipt", await api(`/v1/cases/${caseId}/receipt`));
  if (sortedJson(got.claims?.parts) !== sortedJson(parts)) throw new StepFailed("receipt", 409);
  return got;
}
