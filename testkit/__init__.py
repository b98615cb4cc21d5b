"""What tests and benchmarks share: real servers that stop with their owner, fault helpers, the served test PKI,
station batches, poppler's judgement of our PDFs, the third-party PDF corpus. No production package imports it."""
