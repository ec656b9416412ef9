"""Case library and knowledge base: ingestion, hybrid retrieval, answering.

Public API (every service takes a session and an ``Actor`` and checks permissions):

- ``knowledge.search.search_cases(session, actor, query, k=5) -> CaseResults`` — a list of ``CaseHit``
  (case, score, reasons, filters_met, matched_terms, key_metrics) plus ``.filters`` / ``.relaxed``.
- ``knowledge.search.search_kb(session, actor, query, k=5) -> list[KBHit]`` (article, score, passage).
- ``knowledge.search.search(session, actor, query, collection=None, k=5) -> list[Hit]`` — one or both.
- ``knowledge.answer.answer_question(session, actor, question) -> KBAnswer`` — confident passage, or an
  honest "not sure" with related articles; a client's unanswerable question opens a ticket and lists
  whom to notify in ``KBAnswer.notify``.
- ``knowledge.indexing.sync(session) -> SyncReport`` — bring embeddings and indexes up to date (call
  after importing cases or articles; the caller commits); ``current_index`` syncs lazily.

Layering: knowledge may import crm_core, embeddings and config, nothing above.
"""
