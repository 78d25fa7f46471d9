// FIT-Connect submission metadata on the device (docs/fitconnect.md), in the layout of
// gateway/fitconnect/metadata.py build_metadata (1.x): the same members in the same order,
// hashes sha512 hex over the unencrypted bytes. The server-side schema validation of the
// authority's client is the check; this module builds, it does not validate.

import { hexEncode } from "./b64url.js";

export async function sha512Hex(bytes) {
  return hexEncode(new Uint8Array(await globalThis.crypto.subtle.digest("SHA-512", bytes)));
}

/** One contentStructure.attachments[] entry (Attachment.as_json). */
export function attachmentEntry({ attachmentId, sha512, mimeType, purpose = "attachment", filename = null, description = null }) {
  const item = { hash: { type: "sha512", content: sha512 }, purpose, mimeType, attachmentId };
  if (filename !== null) item.filename = filename;
  if (description !== null) item.description = description;
  return item;
}

/**
 * The metadata document of `version` ({version, schemaUri, dollarSchema} as in
 * gateway/fitconnect/schemas/versions.json); attachments as attachmentEntry() takes them.
 */
export function buildMetadata(version, { dataHash, dataSchemaUri, dataMime, attachments = [], publicService,
  paymentInformation = null, replyChannel = null, additionalReferenceInfo = null, authenticationInformation = null }) {
  if (String(version.version).split(".")[0] !== "1") throw new RangeError(`metadata ${version.version}: only the 1.x layout is implemented`);
  const ids = attachments.map((a) => a.attachmentId);
  if (new Set(ids).size !== ids.length) throw new RangeError("attachment ids must be unique");
  const doc = {};
  if (version.dollarSchema !== "none") doc.$schema = version.schemaUri;
  doc.contentStructure = {
    data: {
      hash: { type: "sha512", content: dataHash },
      submissionSchema: { schemaUri: dataSchemaUri, mimeType: dataMime },
    },
    attachments: attachments.map(attachmentEntry),
  };
  doc.publicServiceType = { ...publicService };
  if (paymentInformation !== null) doc.paymentInformation = { ...paymentInformation };
  if (replyChannel !== null) doc.replyChannel = { ...replyChannel };
  if (additionalReferenceInfo !== null) doc.additionalReferenceInfo = { ...additionalReferenceInfo };
  if (authenticationInformation !== null) doc.authenticationInformation = authenticationInformation.map((a) => ({ ...a }));
  return doc;
}
