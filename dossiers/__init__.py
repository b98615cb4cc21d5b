"""The application layer: dossiers from intake to stored results.

Reading a station's batch (``batch_reader``), recording it (``intake``) with its costs
(``budgets``, ``scan_pages``) and what it may reuse (``reuse``), the pipeline's steps
(``steps``), e-results (``results``, ``result_render``), status (``status``), the wiring of
settings to stores, catalogue and signers (``services``, ``bootstrap``) and the bundled sample
(``sample``). It uses the domain packages (``digitizer``, ``signing``, ``storage``) and is used by
``workers``, ``api`` and ``cli``; it never imports them.
"""
