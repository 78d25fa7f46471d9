{
  "format": "ozg-commons-receipt-signature/1",
  "key_id": "56475aa75463474c",
  "payload": {
    "amount_cents": 9800,
    "authority": "tf",
    "booked_at": "2026-11-28T10:15:00Z",
    "case_hash": "abababababababababababababababababababababababababababababababab",
    "case_reference": "case-0001",
    "currency": "EUR",
    "format": "ozg-commons-receipt/1",
    "kassenzeichen": "1234567890123452",
    "payment_id": "0197c3a0-0000-7000-8000-000000000001",
    "pdf_sha256": "104d9c49c07386b78125e02e44c4383e89d5471be1586f49fcd7d77d53a10a7b",
    "provider": "sandbox",
    "provider_reference": "0197c3a0-0000-7000-8000-0000000000aa"
  },
  "public_key": "A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=",
  "signature": "DNSEzlnUEqbXMwOuRSStcxMFTWlkiHIfqFua75eSlUdNJVdm7PrUJ37S5c65aXv9136GAaNvJTGJn7TCLHulAg=="
}
