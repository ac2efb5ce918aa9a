"""Use cases: ``verb_noun(session, *, actor, ...)``. Each checks permission and rules, calls the
domain, writes rows, audit events (and journal entries), and commits once. No Flask here."""
